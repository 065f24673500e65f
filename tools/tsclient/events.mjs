// End-to-end check of the events API with authentik's own TypeScript client
// (@goauthentik/api, pinned in package.json to the 2024.8.3 build), run by
// e2e/tsclient_test.go against a real server:
//
//   AKCONN_API_KEY=<superuser API key> node tools/tsclient/events.mjs BASE_URL CAPTURE_FILE
//
// BASE_URL is the API root, e.g. http://127.0.0.1:9000/api/v3 (or env
// AKCONN_BASE_URL); CAPTURE_FILE (or env AKCONN_TSCLIENT_CAPTURE) receives
// every raw response of /events/events/ as a JSON array of
// {operation, method, url, status, contentType, body}, body as the exact
// text the server sent, for the test to validate against the contracts.
//
// Through the client's SourcesApi and CoreApi it creates an OAuth source, a
// user connection for the caller, updates and deletes the connection,
// creates a token and reads its key (view_key); through EventsApi it then
// lists, filters and retrieves the events of all that. Any failed
// expectation, or any call the client cannot make or parse, ends the script
// with a message and exit code 1.
//
// The package has no "exports" map: Node resolves it to its CommonJS build
// (dist/index.js, "main"); its dist/esm build is ESM in .js files without
// "type": "module", which Node does not load as ESM.
import { writeFileSync } from "node:fs";
import { Configuration, CoreApi, EventsApi, ResponseError, SourcesApi } from "@goauthentik/api";

const baseUrl = (process.argv[2] || process.env.AKCONN_BASE_URL || "").replace(/\/+$/, "");
const captureFile = process.argv[3] || process.env.AKCONN_TSCLIENT_CAPTURE || "";
const apiKey = process.env.AKCONN_API_KEY || "";
if (!baseUrl || !captureFile || !apiKey) {
    console.error("usage: AKCONN_API_KEY=<key> node events.mjs <base URL, e.g. http://127.0.0.1:9000/api/v3> <capture file>");
    process.exit(2);
}

// Every raw response of the events API, in call order.
const captured = [];
let operation = "";

const config = new Configuration({
    basePath: baseUrl,
    accessToken: apiKey,
    // fetchApi sees every request after the middleware; responses of the
    // events API are cloned and kept verbatim.
    fetchApi: async (url, init) => {
        const response = await fetch(url, init);
        if (String(url).includes("/events/events/")) {
            captured.push({
                operation,
                method: (init && init.method) || "GET",
                url: String(url),
                status: response.status,
                contentType: response.headers.get("content-type") || "",
                body: await response.clone().text(),
            });
        }
        return response;
    },
});
const sources = new SourcesApi(config);
const core = new CoreApi(config);
const events = new EventsApi(config);

class Expectation extends Error {}

function expect(cond, message, detail) {
    if (!cond) {
        throw new Expectation(detail === undefined ? message : `${message}: ${JSON.stringify(detail, null, 2)}`);
    }
}

// call runs one client method under a name the capture records, and turns
// an HTTP error into a message with the request and the response.
async function call(name, fn) {
    operation = name;
    try {
        return await fn();
    } catch (err) {
        if (err instanceof ResponseError) {
            const body = await err.response.text().catch(() => "");
            throw new Expectation(`${name}: ${err.response.status} ${err.response.statusText} from ${err.response.url}\n${body}`);
        }
        if (err instanceof Expectation) {
            throw err;
        }
        throw new Expectation(`${name}: the client failed: ${err && err.stack ? err.stack : err}`);
    } finally {
        operation = "";
    }
}

const stamp = `${Date.now()}-${process.pid}`;
const consumerSecret = `ts-consumer-secret-${stamp}`;
const accessToken = "ts-secret-access-token";
const accessToken2 = `ts-secret-access-token-rotated-${stamp}`;
const identifier = `ts-client-${stamp}`;
const identifier2 = `ts-client-renamed-${stamp}`;
const tokenIdentifier = `ts-token-${stamp}`;
const secrets = [apiKey, consumerSecret, accessToken, accessToken2];

async function main() {
    const me = await call("coreUsersMeRetrieve", () => core.coreUsersMeRetrieve());
    const username = me.user.username;
    expect(username, "coreUsersMeRetrieve returned no username", me);

    // The writes whose events are checked.
    const source = await call("sourcesOauthCreate", () =>
        sources.sourcesOauthCreate({
            oAuthSourceRequest: {
                name: `TS client ${stamp}`,
                slug: `ts-client-${stamp}`,
                providerType: "github",
                consumerKey: `ts-consumer-key-${stamp}`,
                consumerSecret,
            },
        }),
    );
    expect(source.pk, "sourcesOauthCreate returned no pk", source);

    // authentik 2024.8's UserOAuthSourceConnectionRequest has no `source`
    // (upstream it is read-only); this server requires it on create
    // (openapi.yaml: x-addition), so it goes into the body the client built.
    const withSource = async ({ init }) => ({ body: { ...init.body, source: source.pk } });
    const created = await call("sourcesUserConnectionsOauthCreate", () =>
        sources.sourcesUserConnectionsOauthCreate({ userOAuthSourceConnectionRequest: { identifier, accessToken } }, withSource),
    );
    const connectionPk = created.pk;
    expect(Number.isInteger(connectionPk), "sourcesUserConnectionsOauthCreate returned no integer pk", created);
    expect(created.identifier === identifier, "the created connection has another identifier", created);

    const updated = await call("sourcesUserConnectionsOauthPartialUpdate", () =>
        sources.sourcesUserConnectionsOauthPartialUpdate({
            id: connectionPk,
            patchedUserOAuthSourceConnectionRequest: { identifier: identifier2, accessToken: accessToken2 },
        }),
    );
    expect(updated.identifier === identifier2, "the update did not change the identifier", updated);
    await call("sourcesUserConnectionsOauthDestroy", () => sources.sourcesUserConnectionsOauthDestroy({ id: connectionPk }));

    await call("coreTokensCreate", () =>
        core.coreTokensCreate({ tokenRequest: { identifier: tokenIdentifier, intent: "api", expiring: false } }),
    );
    const view = await call("coreTokensViewKeyRetrieve", () => core.coreTokensViewKeyRetrieve({ identifier: tokenIdentifier }));
    expect(typeof view.key === "string" && view.key.length > 0, "view_key returned no key", view);
    secrets.push(view.key);

    // The connection's events: newest first by default.
    const byModel = { contextModelName: "useroauthsourceconnection", contextModelPk: String(connectionPk) };
    const list = await call("eventsEventsList", () => events.eventsEventsList(byModel));
    const actions = list.results.map((e) => e.action);
    expect(
        JSON.stringify(actions) === JSON.stringify(["model_deleted", "model_updated", "model_created"]),
        `the connection's events, newest first, are [${actions}], want [model_deleted,model_updated,model_created]`,
    );
    expect(list.pagination.count === 3, "pagination.count of the connection's events is not 3", list.pagination);
    for (const e of list.results) {
        expect(e.created instanceof Date && !Number.isNaN(e.created.getTime()), "an event's created is not a date", e);
        expect(typeof e.pk === "string" && /^[0-9a-f-]{36}$/.test(e.pk), "an event's pk is not a UUID", e);
        expect(e.user && e.user.username === username, `an event's user is not ${username}`, e);
        expect(e.context && e.context.model && e.context.model.model_name === "useroauthsourceconnection", "an event's context.model is not the connection", e);
        expect(String(e.context.model.pk) === String(connectionPk), "an event's context.model.pk is not the connection's", e);
    }
    const [deletedEvent, updatedEvent, createdEvent] = list.results;
    const diff = updatedEvent.context && updatedEvent.context.diff;
    expect(diff && diff.identifier, "model_updated has no context.diff.identifier", updatedEvent);
    expect(
        diff.identifier.previous_value === identifier && diff.identifier.new_value === identifier2,
        `context.diff.identifier is not {previous_value: ${identifier}, new_value: ${identifier2}}`,
        diff.identifier,
    );
    expect(
        diff.access_token && diff.access_token.previous_value === "********" && diff.access_token.new_value === "********",
        'context.diff.access_token is not masked as "********" on both sides',
        diff.access_token,
    );

    // The view_key event.
    const secretViews = await call("eventsEventsList", () => events.eventsEventsList({ action: "secret_view", pageSize: 100 }));
    const viewEvent = secretViews.results.find(
        (e) => e.context && e.context.secret && typeof e.context.secret.name === "string" && e.context.secret.name.startsWith(tokenIdentifier),
    );
    expect(viewEvent, `no secret_view event has context.secret.name starting with ${tokenIdentifier}`, secretViews.results);
    expect(secretViews.results.every((e) => e.action === "secret_view"), "action=secret_view listed other actions", secretViews.results);

    // Filters.
    const byUser = await call("eventsEventsList", () => events.eventsEventsList({ ...byModel, username }));
    expect(byUser.pagination.count === 3, `username=${username} with the connection's model: count is not 3`, byUser.pagination);
    const byOther = await call("eventsEventsList", () => events.eventsEventsList({ ...byModel, username: `nobody-${stamp}` }));
    expect(byOther.pagination.count === 0 && byOther.results.length === 0, "a username nobody has still lists events", byOther);

    const searched = await call("eventsEventsList", () => events.eventsEventsList({ search: tokenIdentifier }));
    expect(searched.results.some((e) => e.pk === viewEvent.pk), `search=${tokenIdentifier} does not find the view_key event`, searched.results);
    const searchedNone = await call("eventsEventsList", () => events.eventsEventsList({ search: `no-such-text-${stamp}` }));
    expect(searchedNone.pagination.count === 0, "a search for text no event holds still lists events", searchedNone.pagination);

    const oldestFirst = await call("eventsEventsList", () => events.eventsEventsList({ ...byModel, ordering: "created" }));
    const oldestActions = oldestFirst.results.map((e) => e.action);
    expect(
        JSON.stringify(oldestActions) === JSON.stringify(["model_created", "model_updated", "model_deleted"]),
        `ordering=created lists [${oldestActions}], want [model_created,model_updated,model_deleted]`,
    );

    const pages = [];
    for (let page = 1; page <= 3; page++) {
        const p = await call("eventsEventsList", () => events.eventsEventsList({ ...byModel, pageSize: 1, page }));
        expect(p.results.length === 1, `pageSize=1 page=${page} holds ${p.results.length} events`, p);
        expect(
            p.pagination.count === 3 && p.pagination.totalPages === 3 && p.pagination.current === page,
            `pageSize=1 page=${page}: pagination is not {count: 3, totalPages: 3, current: ${page}}`,
            p.pagination,
        );
        expect(p.pagination.next === (page < 3 ? page + 1 : 0), `pageSize=1 page=${page}: pagination.next`, p.pagination);
        expect(p.pagination.previous === (page > 1 ? page - 1 : 0), `pageSize=1 page=${page}: pagination.previous`, p.pagination);
        pages.push(p.results[0].pk);
    }
    expect(
        JSON.stringify(pages) === JSON.stringify([deletedEvent.pk, updatedEvent.pk, createdEvent.pk]),
        "paging one event at a time does not list the three events in order",
        pages,
    );

    // Every event of the run, so that the secret scan below reads them all:
    // the source's and the token's too.
    const all = await call("eventsEventsList", () => events.eventsEventsList({ username, pageSize: 100 }));
    const allActions = all.results.map((e) => `${e.action} ${e.context && e.context.model ? e.context.model.model_name : ""}`.trim());
    for (const want of ["model_created oauthsource", "model_created token", "secret_view"]) {
        expect(allActions.includes(want), `the events of ${username} have no "${want}"`, allActions);
    }
    expect(all.pagination.count === all.results.length, `the events of ${username} do not fit one page of 100`, all.pagination);

    // Retrieve each event: the same as listed.
    for (const e of [createdEvent, updatedEvent, deletedEvent, viewEvent]) {
        const got = await call("eventsEventsRetrieve", () => events.eventsEventsRetrieve({ eventUuid: e.pk }));
        expect(JSON.stringify(got) === JSON.stringify(e), `eventsEventsRetrieve(${e.pk}) differs from the listed event`, { listed: e, retrieved: got });
    }

    // The other read operations.
    const actionTypes = await call("eventsEventsActionsList", () => events.eventsEventsActionsList());
    expect(Array.isArray(actionTypes) && actionTypes.length > 0, "eventsEventsActionsList returned no actions", actionTypes);
    for (const a of ["model_created", "model_updated", "model_deleted", "secret_view"]) {
        expect(actionTypes.some((t) => t.component === a || t.name === a), `eventsEventsActionsList does not list ${a}`, actionTypes);
    }
    const volume = await call("eventsEventsVolumeList", () => events.eventsEventsVolumeList({}));
    expect(Array.isArray(volume) && volume.every((c) => Number.isInteger(c.xCord) && Number.isInteger(c.yCord)), "eventsEventsVolumeList: not coordinates", volume);
    expect(volume.reduce((n, c) => n + c.yCord, 0) >= 6, "eventsEventsVolumeList counts fewer than the 6 events written above", volume);
    const perMonth = await call("eventsEventsPerMonthList", () => events.eventsEventsPerMonthList({ action: "model_created" }));
    expect(Array.isArray(perMonth) && perMonth.every((c) => Number.isInteger(c.xCord) && Number.isInteger(c.yCord)), "eventsEventsPerMonthList: not coordinates", perMonth);
    expect(perMonth.reduce((n, c) => n + c.yCord, 0) >= 3, "eventsEventsPerMonthList(model_created) counts fewer than the 3 model_created events written", perMonth);
    // As upstream, top_per_user groups the events that name an authorized
    // application (context.authorized_application); the writes above name
    // none, so the list may well be empty: it must parse.
    const top = await call("eventsEventsTopPerUserList", () => events.eventsEventsTopPerUserList({}));
    expect(
        Array.isArray(top) && top.every((t) => t.application && Number.isInteger(t.countedEvents) && Number.isInteger(t.uniqueUsers)),
        "eventsEventsTopPerUserList: not a list of {application, countedEvents, uniqueUsers}",
        top,
    );

    // No secret in any events response.
    for (const c of captured) {
        for (const s of secrets) {
            expect(!c.body.includes(s), `${c.operation} ${c.url} returned a secret in its body (${s === apiKey ? "the caller's API key" : s === view.key ? "the key view_key returned" : "a value written as a secret"})`);
        }
    }
    expect(captured.length > 0, "no events response was captured");
    console.log(`ok: ${captured.length} events responses checked (connection ${connectionPk}, token ${tokenIdentifier})`);
}

let failure;
try {
    await main();
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
