// What the scripts of this directory share: loading authentik's TypeScript
// client, capturing every raw response it receives, and failing with a
// readable message. Each script (sources.mjs, core.mjs, events.mjs) is run
// by e2e/tsclient_test.go as
//
//   AKCONN_API_KEY=<superuser API key> node tools/tsclient/<script>.mjs BASE_URL CAPTURE_FILE
//
// BASE_URL is the API root, e.g. http://127.0.0.1:9000/api/v3 (or env
// AKCONN_BASE_URL); CAPTURE_FILE (or env AKCONN_TSCLIENT_CAPTURE) receives
// every raw response under BASE_URL as a JSON array of
// {operation, method, url, status, contentType, headers, body}: operation
// is the client method that sent the request, body the exact text the
// server sent.
// The test validates each against authentik's reference and the mount's
// spec, and checks that every operation of the references was called.
//
// AKCONN_TSCLIENT_PACKAGE names the client package (default
// "@goauthentik/api", the 2024.8.3 build pinned in package.json); a later
// client is installed beside it under an npm alias and named here:
// "@goauthentik/api-2026" is authentik 2026.8.3's. The scripts call the
// same operations with either; where the 2026.8 contract differs they
// branch on v2026 (below), read once here from the loaded package's
// version.
//
// The package has no "exports" map: Node resolves it to its CommonJS build
// (dist/index.js, "main"); its dist/esm build is ESM in .js files without
// "type": "module", which Node does not load as ESM.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const baseUrl = (process.argv[2] || process.env.AKCONN_BASE_URL || "").replace(/\/+$/, "");
const captureFile = process.argv[3] || process.env.AKCONN_TSCLIENT_CAPTURE || "";
export const apiKey = process.env.AKCONN_API_KEY || "";
if (!baseUrl || !captureFile || !apiKey) {
    console.error("usage: AKCONN_API_KEY=<key> node <script>.mjs <base URL, e.g. http://127.0.0.1:9000/api/v3> <capture file>");
    process.exit(2);
}
const clientPackage = process.env.AKCONN_TSCLIENT_PACKAGE || "@goauthentik/api";
const client = await import(clientPackage);

// clientVersion is the loaded client's version (its package.json, which
// an npm alias keeps: "2026.8.3" for @goauthentik/api-2026); v2026 is
// true for authentik 2026.8's client, false for 2024.8's. Any other
// series fails here: the scripts know these two contracts only.
export const clientVersion = createRequire(import.meta.url)(`${clientPackage}/package.json`).version;
export const v2026 = clientVersion.startsWith("2026.8.");
if (!v2026 && !clientVersion.startsWith("2024.8.")) {
    console.error(`${clientPackage} is version ${clientVersion}: these scripts drive authentik 2024.8's or 2026.8's client`);
    process.exit(2);
}
// The version and the operations agree: 2026.8 has stats where 2024.8 had
// per_month.
if (v2026 !== (typeof client.EventsApi.prototype.eventsEventsStatsRetrieve === "function") ||
    v2026 === (typeof client.EventsApi.prototype.eventsEventsPerMonthList === "function")) {
    console.error(`${clientPackage} ${clientVersion}: its EventsApi does not have the operations of its version (stats in 2026.8, per_month in 2024.8)`);
    process.exit(2);
}

// Every raw response under baseUrl, in call order.
export const captured = [];
let operation = "";

// Expectation is a failed check; its message is the whole report.
export class Expectation extends Error {}

// HTTPError is a response with an error status, as the client saw it.
export class HTTPError extends Expectation {
    constructor(name, response, body) {
        super(`${name}: ${response.status} ${response.statusText} from ${response.url}\n${body}`);
        this.status = response.status;
        this.body = body;
    }
}

export function expect(cond, message, detail) {
    if (!cond) {
        throw new Expectation(detail === undefined ? message : `${message}: ${JSON.stringify(detail, null, 2)}`);
    }
}

// expectStatus awaits a call that must fail with status and returns the
// error body, parsed.
export async function expectStatus(status, promise, what) {
    try {
        const got = await promise;
        throw new Expectation(`${what}: want ${status}, the call succeeded: ${JSON.stringify(got)}`);
    } catch (err) {
        if (!(err instanceof HTTPError)) {
            throw err;
        }
        expect(err.status === status, `${what}: want ${status}, got ${err.status}: ${err.body}`);
        return JSON.parse(err.body);
    }
}

// track wraps an API object so that each method call names the operation
// the capture records, and turns the client's errors into messages.
function track(api) {
    return new Proxy(api, {
        get(target, prop) {
            const value = target[prop];
            if (typeof value !== "function" || typeof prop !== "string" || prop.endsWith("Raw")) {
                return value;
            }
            return async (...args) => {
                operation = prop;
                try {
                    const result = await value.apply(target, args);
                    if (v2026 && result && result.pagination) {
                        checkAutocomplete(prop, result);
                    }
                    return result;
                } catch (err) {
                    if (err instanceof client.ResponseError) {
                        throw new HTTPError(prop, err.response, await err.response.text().catch(() => ""));
                    }
                    throw err instanceof Expectation ? err : new Expectation(`${prop}: the client failed: ${err && err.stack ? err.stack : err}`);
                } finally {
                    operation = "";
                }
            };
        },
    });
}

// emptyAutocomplete are the lists whose views have no query language in
// authentik (no get_ql_fields): their autocomplete is {}. Users and events
// have one; theirs is an object (djangoql's schema upstream).
const emptyAutocomplete = ["sourcesOauthList", "sourcesUserConnectionsOauthList", "coreTokensList"];

// checkAutocomplete checks the autocomplete of a 2026.8 paginated list:
// every list of that contract has one.
function checkAutocomplete(op, list) {
    const a = list.autocomplete;
    expect(a !== null && typeof a === "object" && !Array.isArray(a), `${op}: autocomplete is not an object`, { autocomplete: a === undefined ? "(absent)" : a });
    if (emptyAutocomplete.includes(op)) {
        expect(Object.keys(a).length === 0, `${op}: autocomplete is not {}`, a);
    }
}

// validDate is a Date the client made of a valid date-time.
export function validDate(d) {
    return d instanceof Date && !Number.isNaN(d.getTime());
}

// as returns the client's APIs authenticated with key.
export function as(key) {
    const config = new client.Configuration({
        basePath: baseUrl,
        accessToken: key,
        // fetchApi sees every request after the middleware; each response
        // is cloned and kept verbatim.
        fetchApi: async (url, init) => {
            const response = await fetch(url, init);
            captured.push({
                operation,
                method: (init && init.method) || "GET",
                url: String(url),
                status: response.status,
                contentType: response.headers.get("content-type") || "",
                headers: Object.fromEntries(response.headers),
                body: await response.clone().text(),
            });
            return response;
        },
    });
    return {
        core: track(new client.CoreApi(config)),
        sources: track(new client.SourcesApi(config)),
        events: track(new client.EventsApi(config)),
    };
}

// stamp makes this run's names unique: both mounts share one database.
export const stamp = `${Date.now()}-${process.pid}`;

// same compares two lists of values in order.
export function same(got, want) {
    return JSON.stringify(got) === JSON.stringify(want);
}

// run runs main, writes the capture, checks that no response but
// view_key's holds any of secrets (filled in by main as it goes) and exits
// 1 on any failure.
export async function run(main, secrets) {
    let failure;
    try {
        const summary = await main();
        // view_key is the one operation that answers with a secret.
        for (const c of captured.filter((c) => c.operation !== "coreTokensViewKeyRetrieve")) {
            for (const s of secrets) {
                expect(!c.body.includes(s), `${c.operation} ${c.url} returned a secret in its body`);
            }
        }
        console.log(`ok: ${captured.length} responses (${summary})`);
    } catch (err) {
        failure = err;
    }
    try {
        writeFileSync(captureFile, JSON.stringify(captured, null, 2));
    } catch (err) {
        console.error(`could not write ${captureFile}: ${err}`);
        failure = failure || err;
    }
    if (failure) {
        console.error(`FAIL: ${failure instanceof Expectation ? failure.message : failure && failure.stack ? failure.stack : failure}`);
        process.exit(1);
    }
}

// makeUser has the superuser admin create an ordinary user and an API
// token for her, reads its key through view_key and returns the user, her
// key and the client's APIs as her.
export async function makeUser(admin, username) {
    const user = await admin.core.coreUsersCreate({ userRequest: { username, name: `User ${username}`, email: `${username}@example.org` } });
    expect(Number.isInteger(user.pk) && user.username === username && !user.isSuperuser, "coreUsersCreate did not create an ordinary user", user);
    const identifier = `${username}-api`;
    await admin.core.coreTokensCreate({ tokenRequest: { identifier, intent: "api", user: user.pk } });
    const { key } = await admin.core.coreTokensViewKeyRetrieve({ identifier });
    expect(typeof key === "string" && key.length > 0, `view_key of ${identifier} returned no key`);
    return { user, key, api: as(key) };
}
