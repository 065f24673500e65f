// The audit trail (/events/events/) through authentik's TypeScript client
// (lib.mjs: how to run). Through SourcesApi and CoreApi it creates an
// OAuth source, a user connection for the caller, updates and deletes the
// connection, creates a token and reads its key (view_key); through
// EventsApi it then lists, filters, pages and retrieves the events of all
// that, reads actions, volume, per_month and top_per_user, creates an event
// (superusers may) and finds that events cannot be changed or deleted
// (405: this server's trail is append-only, docs/COMPATIBILITY.md).
//
// With authentik 2026.8's client (v2026) there is no per_month: it reads
// stats (counts over time steps), volume as 2026.8 answers it ({action,
// time, count} per 6 hours), and filters on actions, context_device and
// the filters top_per_user takes in 2026.8.
import { apiKey, as, expect, expectStatus, run, same, stamp, v2026, validDate } from "./lib.mjs";

const { core, sources, events } = as(apiKey);

const consumerSecret = `ts-consumer-secret-${stamp}`;
const accessToken = "ts-secret-access-token";
const accessToken2 = `ts-secret-access-token-rotated-${stamp}`;
const identifier = `ts-client-${stamp}`;
const identifier2 = `ts-client-renamed-${stamp}`;
const tokenIdentifier = `ts-token-${stamp}`;
const secrets = [apiKey, consumerSecret, accessToken, accessToken2];

async function main() {
    const me = await core.coreUsersMeRetrieve();
    const username = me.user.username;
    expect(username, "coreUsersMeRetrieve returned no username", me);

    // The writes whose events are checked.
    const source = await sources.sourcesOauthCreate({
        oAuthSourceRequest: {
            name: `TS client ${stamp}`,
            slug: `ts-client-${stamp}`,
            providerType: "github",
            consumerKey: `ts-consumer-key-${stamp}`,
            consumerSecret,
        },
    });
    expect(source.pk, "sourcesOauthCreate returned no pk", source);

    // authentik 2024.8's UserOAuthSourceConnectionRequest has no `source`
    // (upstream it is read-only); this server requires it on create
    // (openapi.yaml: x-addition), so it goes into the body the client built.
    // 2026.8's has it.
    const withSource = async ({ init }) => ({ body: { ...init.body, source: source.pk } });
    const created = v2026
        ? await sources.sourcesUserConnectionsOauthCreate({ userOAuthSourceConnectionRequest: { source: source.pk, identifier, accessToken } })
        : await sources.sourcesUserConnectionsOauthCreate({ userOAuthSourceConnectionRequest: { identifier, accessToken } }, withSource);
    const connectionPk = created.pk;
    expect(Number.isInteger(connectionPk), "sourcesUserConnectionsOauthCreate returned no integer pk", created);
    expect(created.identifier === identifier, "the created connection has another identifier", created);

    const updated = await sources.sourcesUserConnectionsOauthPartialUpdate({
        id: connectionPk,
        patchedUserOAuthSourceConnectionRequest: { identifier: identifier2, accessToken: accessToken2 },
    });
    expect(updated.identifier === identifier2, "the update did not change the identifier", updated);
    await sources.sourcesUserConnectionsOauthDestroy({ id: connectionPk });

    await core.coreTokensCreate({ tokenRequest: { identifier: tokenIdentifier, intent: "api", expiring: false } });
    const view = await core.coreTokensViewKeyRetrieve({ identifier: tokenIdentifier });
    expect(typeof view.key === "string" && view.key.length > 0, "view_key returned no key", view);
    secrets.push(view.key);

    // The connection's events: newest first by default.
    const byModel = { contextModelName: "useroauthsourceconnection", contextModelPk: String(connectionPk) };
    const list = await events.eventsEventsList(byModel);
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
    const secretViews = await events.eventsEventsList({ action: "secret_view", pageSize: 100 });
    const viewEvent = secretViews.results.find(
        (e) => e.context && e.context.secret && typeof e.context.secret.name === "string" && e.context.secret.name.startsWith(tokenIdentifier),
    );
    expect(viewEvent, `no secret_view event has context.secret.name starting with ${tokenIdentifier}`, secretViews.results);
    expect(secretViews.results.every((e) => e.action === "secret_view"), "action=secret_view listed other actions", secretViews.results);

    // Filters.
    const byUser = await events.eventsEventsList({ ...byModel, username });
    expect(byUser.pagination.count === 3, `username=${username} with the connection's model: count is not 3`, byUser.pagination);
    const byOther = await events.eventsEventsList({ ...byModel, username: `nobody-${stamp}` });
    expect(byOther.pagination.count === 0 && byOther.results.length === 0, "a username nobody has still lists events", byOther);

    const searched = await events.eventsEventsList({ search: tokenIdentifier });
    expect(searched.results.some((e) => e.pk === viewEvent.pk), `search=${tokenIdentifier} does not find the view_key event`, searched.results);
    const searchedNone = await events.eventsEventsList({ search: `no-such-text-${stamp}` });
    expect(searchedNone.pagination.count === 0, "a search for text no event holds still lists events", searchedNone.pagination);

    const oldestFirst = await events.eventsEventsList({ ...byModel, ordering: "created" });
    const oldestActions = oldestFirst.results.map((e) => e.action);
    expect(
        JSON.stringify(oldestActions) === JSON.stringify(["model_created", "model_updated", "model_deleted"]),
        `ordering=created lists [${oldestActions}], want [model_created,model_updated,model_deleted]`,
    );

    const pages = [];
    for (let page = 1; page <= 3; page++) {
        const p = await events.eventsEventsList({ ...byModel, pageSize: 1, page });
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

    // Every event of this script's writes (each names the stamp), so that
    // the secret scan reads them all: the source's and the token's too.
    const all = await events.eventsEventsList({ username, search: stamp, pageSize: 100 });
    const allActions = all.results.map((e) => `${e.action} ${e.context && e.context.model ? e.context.model.model_name : ""}`.trim());
    for (const want of ["model_created oauthsource", "model_created token", "secret_view"]) {
        expect(allActions.includes(want), `the events of ${username} have no "${want}"`, allActions);
    }
    expect(all.pagination.count === all.results.length, `the events of ${username} do not fit one page of 100`, all.pagination);

    // Retrieve each event: the same as listed.
    for (const e of [createdEvent, updatedEvent, deletedEvent, viewEvent]) {
        const got = await events.eventsEventsRetrieve({ eventUuid: e.pk });
        expect(JSON.stringify(got) === JSON.stringify(e), `eventsEventsRetrieve(${e.pk}) differs from the listed event`, { listed: e, retrieved: got });
    }

    // The other read operations.
    const actionTypes = await events.eventsEventsActionsList();
    expect(Array.isArray(actionTypes) && actionTypes.length > 0, "eventsEventsActionsList returned no actions", actionTypes);
    for (const a of ["model_created", "model_updated", "model_deleted", "secret_view"]) {
        expect(actionTypes.some((t) => t.component === a || t.name === a), `eventsEventsActionsList does not list ${a}`, actionTypes);
    }
    if (v2026) {
        await aggregates2026(byModel, createdEvent);
    } else {
        const volume = await events.eventsEventsVolumeList({});
        expect(Array.isArray(volume) && volume.every((c) => Number.isInteger(c.xCord) && Number.isInteger(c.yCord)), "eventsEventsVolumeList: not coordinates", volume);
        expect(volume.reduce((n, c) => n + c.yCord, 0) >= 6, "eventsEventsVolumeList counts fewer than the 6 events written above", volume);
        const perMonth = await events.eventsEventsPerMonthList({ action: "model_created" });
        expect(Array.isArray(perMonth) && perMonth.every((c) => Number.isInteger(c.xCord) && Number.isInteger(c.yCord)), "eventsEventsPerMonthList: not coordinates", perMonth);
        expect(perMonth.reduce((n, c) => n + c.yCord, 0) >= 3, "eventsEventsPerMonthList(model_created) counts fewer than the 3 model_created events written", perMonth);
    }
    // As upstream, top_per_user groups the events that name an authorized
    // application (context.authorized_application); the writes above name
    // none, so the list may well be empty: it must parse.
    const top = await events.eventsEventsTopPerUserList({});
    expect(
        Array.isArray(top) && top.every((t) => t.application && Number.isInteger(t.countedEvents) && Number.isInteger(t.uniqueUsers)),
        "eventsEventsTopPerUserList: not a list of {application, countedEvents, uniqueUsers}",
        top,
    );

    if (!v2026) {
        // Filters of volume and per_month: the connection's three events.
        const connVolume = await events.eventsEventsVolumeList(byModel);
        expect(connVolume.reduce((n, c) => n + c.yCord, 0) === 3, "volume of the connection's events is not 3", connVolume);
        const connMonth = await events.eventsEventsPerMonthList({
            action: "model_updated",
            query: JSON.stringify({ context__model__model_name: "useroauthsourceconnection", context__model__pk: connectionPk }),
        });
        expect(connMonth.reduce((n, c) => n + c.yCord, 0) === 1, "per_month of the connection's model_updated is not 1", connMonth);
    }

    // A superuser may record an event: an application authorization, which
    // top_per_user then counts.
    // With 2026.8's client it names a device too, for context_device.
    const appPk = `ts-app-${stamp}`;
    const devicePk = `ts-device-${stamp}`;
    const device = v2026 ? { device: { pk: devicePk, app: "authentik_endpoints", model_name: "device", name: `TS device ${stamp}` } } : {};
    const recorded = await events.eventsEventsCreate({
        eventRequest: {
            action: "authorize_application",
            app: "authentik_providers_oauth2",
            user: { pk: me.user.pk, username, email: me.user.email },
            context: { authorized_application: { pk: appPk, app: "authentik_core", model_name: "application", name: `TS app ${stamp}` }, ...device },
        },
    });
    expect(recorded.action === "authorize_application" && recorded.context.created_via_api === true, "eventsEventsCreate", recorded);
    const topApps = await events.eventsEventsTopPerUserList({ action: "authorize_application", topN: 1000 });
    const mine = topApps.find((t) => t.application.pk === appPk);
    expect(mine && mine.countedEvents === 1 && mine.uniqueUsers === 1, `top_per_user does not count ${appPk} once`, topApps);
    if (v2026) {
        await filters2026(recorded, appPk, devicePk, username);
    }

    // The trail is append-only here.
    const trail = { eventUuid: recorded.pk };
    const eventBody = { action: "model_updated", app: "authentik_core" };
    for (const [what, send] of [
        ["PUT", () => events.eventsEventsUpdate({ ...trail, eventRequest: eventBody })],
        ["PATCH", () => events.eventsEventsPartialUpdate({ ...trail, patchedEventRequest: eventBody })],
        ["DELETE", () => events.eventsEventsDestroy(trail)],
    ]) {
        const refused = await expectStatus(405, send(), `${what} of an event`);
        expect(refused.detail === `Method "${what}" not allowed.`, `${what} of an event: the 405's detail`, refused);
    }
    const kept = await events.eventsEventsRetrieve(trail);
    expect(JSON.stringify(kept) === JSON.stringify(recorded), "the event changed", { recorded, kept });
    return `connection ${connectionPk}, token ${tokenIdentifier}, application ${appPk}`;
}

// aggregates2026 reads 2026.8's volume and stats, over every event and
// over the connection's three (byModel), created in this run.
async function aggregates2026(byModel, createdEvent) {
    // volume: one {action, time, count} per action and 6-hour bucket that
    // has events, the bucket's start at 00, 06, 12 or 18 UTC; oldest first.
    const checkVolume = (volume, what) => {
        expect(Array.isArray(volume) && volume.length > 0, `${what}: no buckets`, volume);
        for (const v of volume) {
            expect(typeof v.action === "string" && v.action !== "" && Number.isInteger(v.count) && v.count > 0,
                `${what}: a bucket is not {action, time, count > 0}`, v);
            expect(validDate(v.time) && v.time.getUTCHours() % 6 === 0 && v.time.getUTCMinutes() === 0 &&
                v.time.getUTCSeconds() === 0 && v.time.getUTCMilliseconds() === 0,
            `${what}: a bucket's time is not the start of a 6-hour bucket (UTC)`, v);
        }
        for (let i = 1; i < volume.length; i++) {
            expect(volume[i - 1].time <= volume[i].time, `${what}: the buckets are not oldest first`, volume);
        }
        return volume;
    };
    const total = (volume) => volume.reduce((n, v) => n + v.count, 0);
    // actions on the list: any of them.
    const createdOnly = await events.eventsEventsList({ ...byModel, actions: ["model_created", "login"] });
    expect(same(createdOnly.results.map((e) => e.pk), [createdEvent.pk]), "actions=[model_created, login] on the connection's events", createdOnly.results);
    const two = await events.eventsEventsList({ ...byModel, actions: ["model_created", "model_deleted"], ordering: "created" });
    expect(same(two.results.map((e) => e.action), ["model_created", "model_deleted"]), "actions=[model_created, model_deleted]", two.results);

    const volume = checkVolume(await events.eventsEventsVolumeList({}), "eventsEventsVolumeList");
    expect(total(volume) >= 6, "eventsEventsVolumeList counts fewer than the 6 events written above", volume);
    const recent = checkVolume(await events.eventsEventsVolumeList({ historyDays: 1, actions: ["model_created", "model_updated", "model_deleted"] }),
        "eventsEventsVolumeList(history_days=1, actions)");
    expect(recent.every((v) => ["model_created", "model_updated", "model_deleted"].includes(v.action)), "volume's actions filter", recent);
    expect(total(recent) >= 3, "volume(history_days=1) counts fewer than the connection's 3 events", recent);
    const connVolume = checkVolume(await events.eventsEventsVolumeList({ ...byModel, historyDays: 7 }), "volume of the connection's events");
    const perAction = {};
    for (const v of connVolume) {
        perAction[v.action] = (perAction[v.action] || 0) + v.count;
    }
    expect(JSON.stringify(perAction, Object.keys(perAction).sort()) === JSON.stringify({ model_created: 1, model_deleted: 1, model_updated: 1 }),
        "volume of the connection's events is not one of each action", connVolume);
    const bucket = new Date(createdEvent.created);
    bucket.setUTCHours(bucket.getUTCHours() - (bucket.getUTCHours() % 6), 0, 0, 0);
    const created = connVolume.find((v) => v.action === "model_created");
    expect(created.time.getTime() === bucket.getTime(), `the model_created bucket is not ${bucket.toISOString()}`, { created, event: createdEvent.created });

    // stats: per count step (slugified, "hours=24" -> hours24) the events
    // created since; unique_users counts the users who made them.
    const steps = ["hours=24", "days=7"];
    const counts = (stats) => Object.entries(stats.countStep || {}).sort(([a], [b]) => (a < b ? -1 : 1));
    const conn = await events.eventsEventsStatsRetrieve({ ...byModel, countSteps: steps });
    expect(conn.uniqueUsers === 1 && same(counts(conn), [["days7", 3], ["hours24", 3]]),
        "stats of the connection's events are not {uniqueUsers: 1, countStep: {hours24: 3, days7: 3}}", conn);
    const stats = await events.eventsEventsStatsRetrieve({ countSteps: steps });
    expect(Number.isInteger(stats.uniqueUsers) && stats.uniqueUsers >= 1, "stats: unique_users", stats);
    expect(same(counts(stats).map(([k]) => k), ["days7", "hours24"]), "stats: count_step's keys", stats);
    expect(Number.isInteger(stats.countStep.hours24) && stats.countStep.hours24 >= 6 && stats.countStep.days7 >= stats.countStep.hours24,
        "stats: count_step counts fewer than the 6 events written above, or days7 < hours24", stats);
    const updates = await events.eventsEventsStatsRetrieve({ ...byModel, actions: ["model_updated"], countSteps: ["weeks=1;days=2"] });
    expect(updates.uniqueUsers === 1 && same(counts(updates), [["weeks1days2", 1]]),
        "stats(actions=model_updated, count_steps=weeks=1;days=2) of the connection's events", updates);
}

// filters2026: the filters 2026.8 adds, on the event recorded above (it
// names a device and an authorized application): actions and
// context_device on the list, and the list's filters on top_per_user.
async function filters2026(recorded, appPk, devicePk, username) {
    const byDevice = await events.eventsEventsList({ contextDevice: devicePk });
    expect(byDevice.results.length === 1 && byDevice.results[0].pk === recorded.pk, `context_device=${devicePk}`, byDevice.results);
    const both = await events.eventsEventsList({ contextDevice: devicePk, actions: ["model_created", "login"] });
    expect(both.pagination.count === 0, "context_device with actions=[model_created, login]: the event is authorize_application", both.results);
    const its = await events.eventsEventsList({ contextDevice: devicePk, actions: ["model_created", "authorize_application"] });
    expect(its.results.length === 1 && its.results[0].pk === recorded.pk, "context_device with actions=[model_created, authorize_application]", its.results);
    const others = await events.eventsEventsList({ contextDevice: `no-such-device-${stamp}` });
    expect(others.pagination.count === 0, "a device no event names", others.results);

    const top = await events.eventsEventsTopPerUserList({ action: "authorize_application", contextAuthorizedApp: appPk, username, topN: 10 });
    expect(top.length === 1 && top[0].application.pk === appPk && top[0].countedEvents === 1 && top[0].uniqueUsers === 1,
        `top_per_user with context_authorized_app=${appPk} and username`, top);
    const byDeviceTop = await events.eventsEventsTopPerUserList({ action: "authorize_application", contextDevice: devicePk });
    expect(byDeviceTop.length === 1 && byDeviceTop[0].application.pk === appPk, `top_per_user with context_device=${devicePk}`, byDeviceTop);
    const nobody = await events.eventsEventsTopPerUserList({ action: "authorize_application", contextAuthorizedApp: appPk, username: `nobody-${stamp}` });
    expect(nobody.length === 0, "top_per_user of a username nobody has", nobody);
}

await run(main, secrets);
