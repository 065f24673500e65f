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
// client is installed beside it under an npm alias and named here.
//
// The package has no "exports" map: Node resolves it to its CommonJS build
// (dist/index.js, "main"); its dist/esm build is ESM in .js files without
// "type": "module", which Node does not load as ESM.
import { writeFileSync } from "node:fs";

const baseUrl = (process.argv[2] || process.env.AKCONN_BASE_URL || "").replace(/\/+$/, "");
const captureFile = process.argv[3] || process.env.AKCONN_TSCLIENT_CAPTURE || "";
export const apiKey = process.env.AKCONN_API_KEY || "";
if (!baseUrl || !captureFile || !apiKey) {
    console.error("usage: AKCONN_API_KEY=<key> node <script>.mjs <base URL, e.g. http://127.0.0.1:9000/api/v3> <capture file>");
    process.exit(2);
}
const client = await import(process.env.AKCONN_TSCLIENT_PACKAGE || "@goauthentik/api");

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
                    return await value.apply(target, args);
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
