package apibrowser_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/getkin/kin-openapi/openapi3"

	"akconn/testenv"
)

// chromiumPath finds Debian's Chromium (AKCONN_CHROMIUM overrides), or
// skips the test saying how to get it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("AKCONN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("SKIPPED: no Chromium here, so the API browser is not tested in a real browser " +
		"(install it with 'apt-get install -y chromium', or set AKCONN_CHROMIUM to a Chromium binary)")
	return ""
}

// pageLog is what the page did: every request it made, every error it
// reported, every target the browser opened.
type pageLog struct {
	mu       sync.Mutex
	requests []string
	errors   []string
	targets  []string
}

func (l *pageLog) add(list *[]string, s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*list = append(*list, s)
}

func (l *pageLog) snapshot() (requests, errors, targets []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.requests), slices.Clone(l.errors), slices.Clone(l.targets)
}

// onTabEvent runs in chromedp's event loop: it only records.
func (l *pageLog) onTabEvent(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		l.add(&l.requests, ev.Request.URL)
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			l.add(&l.errors, fmt.Sprintf("request %s failed: %s (blocked: %s)", ev.RequestID, ev.ErrorText, ev.BlockedReason))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		l.add(&l.errors, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			l.add(&l.errors, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			l.add(&l.errors, fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

// reportViolations makes every Content-Security-Policy violation a
// console error. It is installed through the DevTools protocol, which the
// page's CSP does not restrict.
const reportViolations = `document.addEventListener('securitypolicyviolation', (e) => {
	console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI + ' (' + e.sourceFile + ':' + e.lineNumber + ')');
}, true);`

// jsHelpers reach into RapiDoc's shadow DOM.
const jsHelpers = `
const rapidoc = () => document.querySelector('rapi-doc')?.shadowRoot;
const deepText = (root) => {
	let s = '';
	for (const n of root.childNodes) {
		if (n.nodeType === Node.TEXT_NODE) s += n.data;
		else if (n.nodeType === Node.ELEMENT_NODE) {
			if (n.localName === 'style') continue;
			if (n.shadowRoot) s += deepText(n.shadowRoot);
			s += deepText(n);
		}
	}
	return s;
};
const visible = (el) => !!el && el.getBoundingClientRect().height > 0;
`

// waitFor evaluates the JavaScript expression until it is true. (chromedp's
// Poll compiles its predicate with new Function, which the page's CSP
// rightly forbids.)
func waitFor(ctx context.Context, t *testing.T, what, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("(() => {"+jsHelpers+"return !!("+expr+");})()"))
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// operationIDs are RapiDoc's element ids of the spec's operations.
func operationIDs(t *testing.T) []string {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(testenv.Spec(t))
	if err != nil {
		t.Fatal(err)
	}
	invalid := regexp.MustCompile(`[\s#:?&={}]`) // RapiDoc's invalidCharsRegEx
	var ids []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ids = append(ids, strings.ToLower(method)+"-"+invalid.ReplaceAllString(path, "-"))
		}
	}
	slices.Sort(ids)
	return ids
}

// TestAPIBrowserInChromium opens /api/v3/ in headless Chromium against the
// real server, waits for every operation to render, enters the admin's
// token, tries GET /core/users/me/ and sees its 200. Every request the page
// makes must stay on the server's origin, and the page must report no
// error (exceptions, console errors, CSP violations, failed loads).
func TestAPIBrowserInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	env := testenv.NewCurrent(t) // /api/v3/ speaking openapi.yaml, whose operations it waits for
	srv := httptest.NewServer(env.Echo)
	defer srv.Close()
	origin, _ := url.Parse(srv.URL)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	var pl pageLog
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(pl.onTabEvent))
	defer cancelTab()

	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser and opens the tab
		t.Fatalf("start %s: %v", chromium, err)
	}
	if err := chromedp.ListenBrowser(ctx, func(ev any) {
		if ev, ok := ev.(*target.EventTargetCreated); ok {
			pl.add(&pl.targets, string(ev.TargetInfo.Type)+" "+ev.TargetInfo.URL)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: reportViolations}); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+"/api/v3")); err != nil {
		t.Fatal(err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, srv.URL+"/api/v3/") {
		t.Fatalf("/api/v3 led to %q (%v), want %s/api/v3/", loc, err, srv.URL)
	}

	// Every operation of the spec is rendered, and these two are visible.
	ids := operationIDs(t)
	waitFor(ctx, t, "every operation rendered", fmt.Sprintf(
		`%q.split(' ').every((id) => rapidoc()?.getElementById(id))`, strings.Join(ids, " ")), 30*time.Second)
	for _, path := range []string{"/sources/user_connections/oauth/{id}/", "/core/tokens/"} {
		waitFor(ctx, t, path+" shown", fmt.Sprintf(
			`[...rapidoc().querySelectorAll('.expanded-endpoint-body')].some((el) => visible(el) && deepText(el).includes(%q))`, path), 10*time.Second)
	}
	t.Logf("%d operations rendered %s after the browser started", len(ids), time.Since(start).Round(time.Millisecond))

	// A person types the token into the authentication section and sets it.
	const authInput = `document.querySelector('rapi-doc').shadowRoot.querySelector('#http-authentik-api-key-input')`
	const setButton = `document.querySelector('rapi-doc').shadowRoot.querySelector('#security-scheme-authentik button')`
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.JSPath(authInput), testenv.AdminKey),
		chromedp.Click(chromedp.JSPath(setButton)),
	); err != nil {
		t.Fatalf("enter the token: %v", err)
	}
	waitFor(ctx, t, "the token applied", `deepText(rapidoc().getElementById('auth')).includes('1 API key applied')`, 5*time.Second)

	// ...and tries GET /core/users/me/: the 200 and the body show.
	const me = `document.querySelector('rapi-doc').shadowRoot.getElementById('get-/core/users/me/').querySelector('api-request').shadowRoot`
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.JSPath(me+`.querySelector('button.m-btn.primary')`))); err != nil {
		t.Fatalf("click TRY: %v", err)
	}
	waitFor(ctx, t, "the 200 of GET /core/users/me/ shown",
		`(() => { const r = `+me+`; const m = r.querySelector('.response-message'); return m && /\b200\b/.test(m.textContent) && deepText(r).includes('"akadmin"'); })()`,
		10*time.Second)
	// The screenshot shows the navigation (every operation) and this one, tried.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('rapi-doc').shadowRoot.getElementById('get-/core/users/me/').scrollIntoView({block: 'start'})`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let the scroll settle before the screenshot
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, shot)

	requests, errors, targets := pl.snapshot()
	for _, r := range requests {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "data" || u.Scheme == "blob" {
			continue // not a request to any host
		}
		if u.Scheme != origin.Scheme || u.Host != origin.Host {
			t.Errorf("the page requested %s, outside %s", r, srv.URL)
		}
	}
	for _, want := range []string{"/api/v3/", "/api/v3/browser/rapidoc-min.js?v=", "/api/v3/schema/", "/api/v3/core/users/me/"} {
		if !slices.ContainsFunc(requests, func(r string) bool { return strings.HasPrefix(r, srv.URL+want) }) {
			t.Errorf("no request to %s recorded (recorded: %q)", want, requests)
		}
	}
	for _, e := range errors {
		t.Errorf("page error: %s", e)
	}
	for _, tg := range targets {
		if typ, _, _ := strings.Cut(tg, " "); typ != "page" && typ != "tab" && typ != "browser" {
			t.Errorf("the browser opened a %s target, whose requests this test does not see", tg)
		}
	}
	t.Logf("the page made %d requests: %q", len(requests), requests)
}

// saveScreenshot keeps the screenshot under t.TempDir(), and also at
// $AKCONN_SCREENSHOT when set (make api-browser-screenshot).
func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	paths := []string{filepath.Join(t.TempDir(), "api-browser.png")}
	if p := os.Getenv("AKCONN_SCREENSHOT"); p != "" {
		paths = append(paths, p)
	}
	for _, p := range paths {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}
