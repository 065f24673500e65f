// OAuth sources and user connections through authentik's TypeScript client,
// as an administrator and an ordinary user use them (lib.mjs: how to run).
//
// The superuser creates two sources and lists them with filters, search,
// ordering and pages; an ordinary user creates her own connection to one,
// the superuser another, and both are listed, filtered, paged, retrieved,
// updated (PUT and PATCH), shown in used_by and deleted; the ordinary user
// cannot create a source (403); the sources are updated and deleted.
//
// With authentik 2026.8's client (v2026) it also creates an entraid and a
// slack source (pkce, promoted, the authorization code's auth method) and
// sets icons (icon_url, icon_themed_urls), filters on pbm_uuid; a
// connection is made with its source in the body (2026.8's request has a
// writable `source` and no `user`: the caller's), is read with source (a
// uuid) and source_obj, moved between sources by PUT and PATCH with
// expires, and one has an identifier of 300 characters.
import { apiKey, as, expect, expectStatus, makeUser, run, same, stamp, v2026, validDate } from "./lib.mjs";

const admin = as(apiKey);
const secrets = [apiKey];
const secret = (s) => (secrets.push(s), s);

// withSource adds the connection's source to the body the client built:
// authentik 2024.8's UserOAuthSourceConnectionRequest has no `source`
// (upstream it is read-only); this server requires it on create
// (api/2024.8.yaml: x-addition). 2026.8's client sends it itself.
const withSource = (pk) => async ({ init }) => ({ body: { ...init.body, source: pk } });

async function main() {
    const types = await admin.sources.sourcesOauthSourceTypesList({});
    expect(types.some((t) => t.name === "github" && t.verboseName === "GitHub"), "source_types does not list github", types);
    const named = await admin.sources.sourcesOauthSourceTypesList({ name: "discord" });
    expect(same(named.map((t) => t.name), ["discord"]), "source_types?name=discord", named);

    // Two sources: github and discord.
    const sourceFor = (kind) => ({
        name: `TS ${kind} ${stamp}`,
        slug: `ts-${kind}-${stamp}`,
        providerType: kind,
        consumerKey: `ts-key-${kind}-${stamp}`,
        consumerSecret: secret(`ts-consumer-secret-${kind}-${stamp}`),
    });
    const github = await admin.sources.sourcesOauthCreate({ oAuthSourceRequest: sourceFor("github") });
    const discord = await admin.sources.sourcesOauthCreate({ oAuthSourceRequest: sourceFor("discord") });
    expect(github.slug === `ts-github-${stamp}` && github.providerType === "github" && github.enabled, "the github source", github);

    const mine = { search: stamp };
    const all = await admin.sources.sourcesOauthList({ ...mine, ordering: "name" });
    expect(same(all.results.map((s) => s.slug), [discord.slug, github.slug]), "search + ordering=name", all.results);
    const desc = await admin.sources.sourcesOauthList({ ...mine, ordering: "-name" });
    expect(same(desc.results.map((s) => s.slug), [github.slug, discord.slug]), "ordering=-name", desc.results);
    const byType = await admin.sources.sourcesOauthList({ ...mine, providerType: "discord" });
    expect(same(byType.results.map((s) => s.pk), [discord.pk]), "provider_type=discord", byType.results);
    const bySlug = await admin.sources.sourcesOauthList({ slug: github.slug });
    expect(same(bySlug.results.map((s) => s.pk), [github.pk]), "slug filter", bySlug.results);
    const byName = await admin.sources.sourcesOauthList({ name: github.name, enabled: true });
    expect(same(byName.results.map((s) => s.pk), [github.pk]), "name + enabled filter", byName.results);
    const page2 = await admin.sources.sourcesOauthList({ ...mine, ordering: "name", pageSize: 1, page: 2 });
    expect(same(page2.results.map((s) => s.pk), [github.pk]) && page2.pagination.count === 2 && page2.pagination.previous === 1,
        "page 2 of 1", page2);

    const got = await admin.sources.sourcesOauthRetrieve({ slug: discord.slug });
    expect(got.pk === discord.pk && got.name === discord.name, "sourcesOauthRetrieve", got);
    if (v2026) {
        await sources2026(sourceFor, github);
    }

    // An ordinary user links her own account, and may not make sources.
    const alice = await makeUser(admin, `ts-alice-${stamp}`);
    secrets.push(alice.key);
    const denied = await expectStatus(403, alice.api.sources.sourcesOauthCreate({ oAuthSourceRequest: sourceFor("google") }),
        "an ordinary user creating a source");
    expect(typeof denied.detail === "string", "the 403 has no detail", denied);
    let hers, his;
    if (v2026) {
        hers = await alice.api.sources.sourcesUserConnectionsOauthCreate({
            userOAuthSourceConnectionRequest: { source: github.pk, identifier: `alice-${stamp}`, accessToken: secret(`ts-access-alice-${stamp}`) },
        });
        expect(hers.user === alice.user.pk && hers.identifier === `alice-${stamp}`, "her connection", hers);
        checkConnection2026(hers, github, "her connection");
    } else {
        hers = await alice.api.sources.sourcesUserConnectionsOauthCreate(
            { userOAuthSourceConnectionRequest: { identifier: `alice-${stamp}`, accessToken: secret(`ts-access-alice-${stamp}`) } },
            withSource(github.pk),
        );
        expect(hers.user === alice.user.pk && hers.source.slug === github.slug && hers.identifier === `alice-${stamp}`, "her connection", hers);
    }
    const adminMe = await admin.core.coreUsersMeRetrieve();
    if (v2026) {
        his = await admin.sources.sourcesUserConnectionsOauthCreate({
            userOAuthSourceConnectionRequest: { source: discord.pk, identifier: `admin-${stamp}`, accessToken: secret(`ts-access-admin-${stamp}`) },
        });
        checkConnection2026(his, discord, "his connection");
    } else {
        his = await admin.sources.sourcesUserConnectionsOauthCreate(
            { userOAuthSourceConnectionRequest: { identifier: `admin-${stamp}`, accessToken: secret(`ts-access-admin-${stamp}`) } },
            withSource(discord.pk),
        );
    }
    expect(his.user === adminMe.user.pk, "the superuser's connection is not his", his);

    const herList = await alice.api.sources.sourcesUserConnectionsOauthList({});
    expect(same(herList.results.map((c) => c.pk), [hers.pk]), "an ordinary user lists only her own connections", herList.results);
    const conns = { search: stamp };
    const bySource = await admin.sources.sourcesUserConnectionsOauthList({ ...conns, sourceSlug: github.slug });
    expect(same(bySource.results.map((c) => c.pk), [hers.pk]), "source__slug filter", bySource.results);
    const byUser = await admin.sources.sourcesUserConnectionsOauthList({ user: alice.user.pk });
    expect(same(byUser.results.map((c) => c.pk), [hers.pk]), "user filter", byUser.results);
    const ordered = await admin.sources.sourcesUserConnectionsOauthList({ ...conns, ordering: "-identifier" });
    expect(same(ordered.results.map((c) => c.pk), [hers.pk, his.pk]), "search + ordering=-identifier", ordered.results);
    const first = await admin.sources.sourcesUserConnectionsOauthList({ ...conns, ordering: "identifier", pageSize: 1 });
    expect(same(first.results.map((c) => c.pk), [his.pk]) && first.pagination.next === 2 && first.pagination.totalPages === 2,
        "page 1 of 1", first);

    // Her connection: read, replaced, patched, shown as the source's use.
    const read = await alice.api.sources.sourcesUserConnectionsOauthRetrieve({ id: hers.pk });
    if (v2026) {
        expect(read.identifier === hers.identifier, "sourcesUserConnectionsOauthRetrieve", read);
        checkConnection2026(read, github, "sourcesUserConnectionsOauthRetrieve");
        await connection2026(alice, hers, github, discord);
    } else {
        expect(read.identifier === hers.identifier && read.source.pk === github.pk, "sourcesUserConnectionsOauthRetrieve", read);
        const put = await alice.api.sources.sourcesUserConnectionsOauthUpdate({
            id: hers.pk,
            userOAuthSourceConnectionRequest: { identifier: `alice-put-${stamp}`, accessToken: secret(`ts-access-alice-put-${stamp}`) },
        });
        expect(put.identifier === `alice-put-${stamp}` && put.source.pk === github.pk && put.user === alice.user.pk, "PUT keeps source and user", put);
        const patched = await alice.api.sources.sourcesUserConnectionsOauthPartialUpdate({
            id: hers.pk, patchedUserOAuthSourceConnectionRequest: { identifier: `alice-patch-${stamp}` },
        });
        expect(patched.identifier === `alice-patch-${stamp}`, "PATCH identifier", patched);
    }
    const connUse = await alice.api.sources.sourcesUserConnectionsOauthUsedByList({ id: hers.pk });
    expect(Array.isArray(connUse), "a connection's used_by is not a list", connUse);
    const sourceUse = await admin.sources.sourcesOauthUsedByList({ slug: github.slug });
    expect(sourceUse.some((u) => u.modelName === "useroauthsourceconnection" && u.action === "cascade" && String(u.pk) === String(hers.pk)),
        "the github source's used_by does not name her connection", sourceUse);

    await alice.api.sources.sourcesUserConnectionsOauthDestroy({ id: hers.pk });
    await admin.sources.sourcesUserConnectionsOauthDestroy({ id: his.pk });
    const gone = await admin.sources.sourcesUserConnectionsOauthList(conns);
    expect(gone.pagination.count === 0, "deleted connections are still listed", gone);

    // The sources: replaced, patched, deleted.
    const replaced = await admin.sources.sourcesOauthUpdate({
        slug: discord.slug, oAuthSourceRequest: { ...sourceFor("discord"), name: `TS discord renamed ${stamp}`, enabled: false },
    });
    expect(replaced.name === `TS discord renamed ${stamp}` && replaced.enabled === false, "sourcesOauthUpdate", replaced);
    const renamed = await admin.sources.sourcesOauthPartialUpdate({ slug: github.slug, patchedOAuthSourceRequest: { additionalScopes: "read:org" } });
    expect(renamed.additionalScopes === "read:org" && renamed.name === github.name, "sourcesOauthPartialUpdate", renamed);
    await admin.sources.sourcesOauthDestroy({ slug: github.slug });
    await admin.sources.sourcesOauthDestroy({ slug: discord.slug });
    await admin.core.coreUsersDestroy({ id: alice.user.pk });
    return `sources ${github.slug}, ${discord.slug}; connections ${hers.pk}, ${his.pk}`;
}

// checkConnection2026 checks what 2026.8 answers for a connection to
// source: source is the source's uuid, source_obj the source, last_updated
// a date, and expires the date it was given, or absent when it was never
// given one. (Upstream a connection created without an expiry expires at
// its creation; here it has no known expiry, and 2026.8's expires is not
// nullable: docs/COMPATIBILITY.md.)
function checkConnection2026(c, source, what, expires) {
    expect(c.source === source.pk, `${what}: source is not the source's uuid ${source.pk}`, c);
    expect(c.sourceObj && c.sourceObj.pk === source.pk && c.sourceObj.slug === source.slug && c.sourceObj.name === source.name,
        `${what}: source_obj is not the source`, c);
    expect(validDate(c.created) && validDate(c.lastUpdated) && c.lastUpdated >= c.created, `${what}: created/last_updated`, c);
    if (expires === undefined) {
        expect(c.expires === undefined, `${what}: a connection never given an expiry answers an expires`, c);
    } else {
        expect(validDate(c.expires) && c.expires.getTime() === expires.getTime(), `${what}: expires is not ${expires.toISOString()}`, c);
    }
}

// sources2026: what 2026.8 adds to a source. An entraid source with PKCE
// (S256), promoted, its token request authenticated in the body and an
// icon at an https URL; a slack source with the defaults, then a themed
// icon; the pbm_uuid filter. Both are deleted.
async function sources2026(sourceFor, github) {
    const icon = `https://icons.example.org/ts/entra-${stamp}.png`;
    const entra = await admin.sources.sourcesOauthCreate({
        oAuthSourceRequest: { ...sourceFor("entraid"), pkce: "S256", promoted: true, authorizationCodeAuthMethod: "post_body", icon },
    });
    for (const [what, s] of [["sourcesOauthCreate", entra], ["sourcesOauthRetrieve", await admin.sources.sourcesOauthRetrieve({ slug: entra.slug })]]) {
        expect(s.providerType === "entraid" && s.pkce === "S256" && s.promoted === true && s.authorizationCodeAuthMethod === "post_body",
            `${what}: the entraid source's provider_type, pkce, promoted, authorization_code_auth_method`, s);
        expect(s.icon === icon && s.iconUrl === icon && s.iconThemedUrls === null,
            `${what}: an https icon is its own icon_url, and has no themed URLs`, s);
        expect(s.type && s.type.name === "entraid", `${what}: type is not entraid's`, s);
    }

    const slack = await admin.sources.sourcesOauthCreate({ oAuthSourceRequest: sourceFor("slack") });
    expect(slack.providerType === "slack" && slack.type && slack.type.name === "slack", "the slack source", slack);
    expect(slack.pkce === "none" && slack.promoted === false && slack.authorizationCodeAuthMethod === "basic_auth",
        "a source's defaults: pkce none, not promoted, basic_auth", slack);
    expect(slack.iconUrl === null && slack.iconThemedUrls === null, "a source without an icon: icon_url and icon_themed_urls null", slack);
    const themed = `https://icons.example.org/ts/%(theme)s/slack-${stamp}.svg`;
    const withIcon = await admin.sources.sourcesOauthPartialUpdate({ slug: slack.slug, patchedOAuthSourceRequest: { icon: themed } });
    const want = {
        light: `https://icons.example.org/ts/light/slack-${stamp}.svg`,
        dark: `https://icons.example.org/ts/dark/slack-${stamp}.svg`,
    };
    for (const [what, s] of [["sourcesOauthPartialUpdate", withIcon], ["sourcesOauthRetrieve", await admin.sources.sourcesOauthRetrieve({ slug: slack.slug })]]) {
        expect(s.icon === themed && s.iconUrl === themed, `${what}: a themed icon's icon and icon_url`, s);
        expect(s.iconThemedUrls && s.iconThemedUrls.light === want.light && s.iconThemedUrls.dark === want.dark,
            `${what}: icon_themed_urls of ${themed}`, s.iconThemedUrls);
    }

    const byPbm = await admin.sources.sourcesOauthList({ pbmUuid: entra.pk });
    expect(same(byPbm.results.map((s) => s.pk), [entra.pk]), "pbm_uuid filter", byPbm.results);
    const byOther = await admin.sources.sourcesOauthList({ pbmUuid: github.pk, providerType: "entraid" });
    expect(byOther.results.length === 0 && byOther.pagination.count === 0, "pbm_uuid of github with provider_type entraid", byOther);
    const slacks = await admin.sources.sourcesOauthList({ search: stamp, providerType: "slack" });
    expect(same(slacks.results.map((s) => s.pk), [slack.pk]), "provider_type=slack", slacks.results);
    await admin.sources.sourcesOauthDestroy({ slug: entra.slug });
    await admin.sources.sourcesOauthDestroy({ slug: slack.slug });
}

// connection2026: her connection (to github) is moved to discord by PUT,
// back by PATCH, each with an expiry read back; a second one, to discord
// (a user has one connection per source), created with an expiry, has an
// identifier of 300 characters (2026.8 sets no maximum) and is deleted.
async function connection2026(alice, hers, github, discord) {
    const day = 24 * 3600 * 1000;
    const second = (ms) => new Date(Math.ceil(ms / 1000) * 1000);
    const expires1 = second(Date.now() + 30 * day);
    const put = await alice.api.sources.sourcesUserConnectionsOauthUpdate({
        id: hers.pk,
        userOAuthSourceConnectionRequest: {
            source: discord.pk, identifier: `alice-put-${stamp}`, accessToken: secret(`ts-access-alice-put-${stamp}`), expires: expires1,
        },
    });
    expect(put.identifier === `alice-put-${stamp}` && put.user === alice.user.pk && put.pk === hers.pk, "PUT: identifier, same user and pk", put);
    checkConnection2026(put, discord, "PUT to discord", expires1);

    const expires2 = second(Date.now() + 60 * day);
    const patched = await alice.api.sources.sourcesUserConnectionsOauthPartialUpdate({
        id: hers.pk, patchedUserOAuthSourceConnectionRequest: { identifier: `alice-patch-${stamp}`, source: github.pk, expires: expires2 },
    });
    expect(patched.identifier === `alice-patch-${stamp}` && patched.user === alice.user.pk, "PATCH identifier", patched);
    checkConnection2026(patched, github, "PATCH back to github", expires2);
    expect(patched.created.getTime() === hers.created.getTime() && patched.lastUpdated >= put.lastUpdated,
        "PATCH: created changed, or last_updated went back", { hers, put, patched });

    const identifier = `alice-long-${stamp}-`.padEnd(300, "x");
    const expires3 = second(Date.now() + 90 * day);
    const long = await alice.api.sources.sourcesUserConnectionsOauthCreate({
        userOAuthSourceConnectionRequest: { source: discord.pk, identifier, expires: expires3 },
    });
    expect(long.identifier === identifier && long.user === alice.user.pk, "a connection with a 300-character identifier", long);
    checkConnection2026(long, discord, "the 300-character identifier's connection, created with an expiry", expires3);
    const longRead = await alice.api.sources.sourcesUserConnectionsOauthRetrieve({ id: long.pk });
    expect(longRead.identifier === identifier, "a 300-character identifier read back", longRead);
    checkConnection2026(longRead, discord, "the 300-character identifier's connection, read back", expires3);
    await alice.api.sources.sourcesUserConnectionsOauthDestroy({ id: long.pk });
}

await run(main, secrets);
