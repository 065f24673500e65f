// OAuth sources and user connections through authentik's TypeScript client,
// as an administrator and an ordinary user use them (lib.mjs: how to run).
//
// The superuser creates two sources and lists them with filters, search,
// ordering and pages; an ordinary user creates her own connection to one,
// the superuser another, and both are listed, filtered, paged, retrieved,
// updated (PUT and PATCH), shown in used_by and deleted; the ordinary user
// cannot create a source (403); the sources are updated and deleted.
import { apiKey, as, expect, expectStatus, makeUser, run, same, stamp } from "./lib.mjs";

const admin = as(apiKey);
const secrets = [apiKey];
const secret = (s) => (secrets.push(s), s);

// withSource adds the connection's source to the body the client built:
// authentik 2024.8's UserOAuthSourceConnectionRequest has no `source`
// (upstream it is read-only); this server requires it on create
// (openapi.yaml: x-addition).
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

    // An ordinary user links her own account, and may not make sources.
    const alice = await makeUser(admin, `ts-alice-${stamp}`);
    secrets.push(alice.key);
    const denied = await expectStatus(403, alice.api.sources.sourcesOauthCreate({ oAuthSourceRequest: sourceFor("google") }),
        "an ordinary user creating a source");
    expect(typeof denied.detail === "string", "the 403 has no detail", denied);
    const hers = await alice.api.sources.sourcesUserConnectionsOauthCreate(
        { userOAuthSourceConnectionRequest: { identifier: `alice-${stamp}`, accessToken: secret(`ts-access-alice-${stamp}`) } },
        withSource(github.pk),
    );
    expect(hers.user === alice.user.pk && hers.source.slug === github.slug && hers.identifier === `alice-${stamp}`, "her connection", hers);
    const adminMe = await admin.core.coreUsersMeRetrieve();
    const his = await admin.sources.sourcesUserConnectionsOauthCreate(
        { userOAuthSourceConnectionRequest: { identifier: `admin-${stamp}`, accessToken: secret(`ts-access-admin-${stamp}`) } },
        withSource(discord.pk),
    );
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

await run(main, secrets);
