// Users and tokens through authentik's TypeScript client, as an
// administrator and an ordinary user use them (lib.mjs: how to run).
//
// The superuser creates users and lists them with filters, search,
// ordering and pages, reads, replaces and patches one; an ordinary user
// reads herself (users/me), makes her own tokens, lists, reads, changes
// and deletes them, views a key; used_by lists what deleting a user takes
// with it; the users are deleted.
import { apiKey, as, expect, expectStatus, makeUser, run, same, stamp } from "./lib.mjs";

const admin = as(apiKey);
const secrets = [apiKey];

async function main() {
    const me = await admin.core.coreUsersMeRetrieve();
    expect(me.user.isSuperuser && me.user.username, "users/me of the superuser", me);

    // Users: three of this run, listed every way a client lists them.
    const prefix = `ts-user-${stamp}`;
    const users = [];
    for (const [n, active] of [["a", true], ["b", true], ["c", false]]) {
        users.push(await admin.core.coreUsersCreate({
            userRequest: { username: `${prefix}-${n}`, name: `TS ${n} ${stamp}`, email: `${n}-${stamp}@example.org`, isActive: active },
        }));
    }
    const [a, b, c] = users;
    const mine = { search: prefix };
    const all = await admin.core.coreUsersList({ ...mine, ordering: "-username" });
    expect(same(all.results.map((u) => u.pk), [c.pk, b.pk, a.pk]), "search + ordering=-username", all.results);
    const active = await admin.core.coreUsersList({ ...mine, isActive: true });
    expect(same(active.results.map((u) => u.pk), [a.pk, b.pk]), "is_active=true", active.results);
    const byName = await admin.core.coreUsersList({ username: b.username });
    expect(same(byName.results.map((u) => u.pk), [b.pk]), "username filter", byName.results);
    const byEmail = await admin.core.coreUsersList({ email: a.email, isSuperuser: false });
    expect(same(byEmail.results.map((u) => u.pk), [a.pk]), "email + is_superuser filter", byEmail.results);
    const page = await admin.core.coreUsersList({ ...mine, pageSize: 2, page: 2, includeGroups: false });
    expect(same(page.results.map((u) => u.pk), [c.pk]) && page.pagination.count === 3 && page.pagination.totalPages === 2,
        "page 2 of 2", page);

    const got = await admin.core.coreUsersRetrieve({ id: a.pk });
    expect(got.username === a.username && got.uuid === a.uuid, "coreUsersRetrieve", got);
    const put = await admin.core.coreUsersUpdate({
        id: c.pk, userRequest: { username: c.username, name: `TS c renamed ${stamp}`, isActive: true, attributes: { team: "ts" } },
    });
    expect(put.name === `TS c renamed ${stamp}` && put.isActive && put.attributes.team === "ts", "coreUsersUpdate", put);
    const patched = await admin.core.coreUsersPartialUpdate({ id: b.pk, patchedUserRequest: { email: `b2-${stamp}@example.org` } });
    expect(patched.email === `b2-${stamp}@example.org` && patched.name === b.name, "coreUsersPartialUpdate", patched);

    // Tokens: an ordinary user's own.
    const alice = await makeUser(admin, `ts-alice-${stamp}`);
    secrets.push(alice.key);
    const herMe = await alice.api.core.coreUsersMeRetrieve();
    expect(herMe.user.pk === alice.user.pk && !herMe.user.isSuperuser, "users/me of an ordinary user", herMe);
    const seen = await alice.api.core.coreUsersList({});
    expect(same(seen.results.map((u) => u.pk), [alice.user.pk]), "an ordinary user lists only herself", seen.results);
    await expectStatus(403, alice.api.core.coreUsersPartialUpdate({ id: alice.user.pk, patchedUserRequest: { name: "x" } }),
        "an ordinary user changing her user");

    const tok = `ts-token-${stamp}`;
    const t1 = await alice.api.core.coreTokensCreate({ tokenRequest: { identifier: `${tok}-1`, description: "first" } });
    const t2 = await alice.api.core.coreTokensCreate({ tokenRequest: { identifier: `${tok}-2`, intent: "app_password" } });
    expect(t1.user === alice.user.pk && t1.intent === "api" && t1.expiring && t1.expires instanceof Date, "an ordinary user's token", t1);
    expect(t2.intent === "app_password", "app_password token", t2);
    const hers = await alice.api.core.coreTokensList({ ordering: "-identifier" });
    expect(same(hers.results.map((t) => t.identifier), [`${tok}-2`, `${tok}-1`, `${alice.user.username}-api`]), "her tokens, ordering=-identifier", hers.results);
    const byIntent = await admin.core.coreTokensList({ search: tok, intent: "app_password" });
    expect(same(byIntent.results.map((t) => t.pk), [t2.pk]), "search + intent filter", byIntent.results);
    const byUser = await admin.core.coreTokensList({ userUsername: alice.user.username, identifier: `${tok}-1`, expiring: true });
    expect(same(byUser.results.map((t) => t.pk), [t1.pk]), "user__username + identifier + expiring filter", byUser.results);
    const paged = await admin.core.coreTokensList({ search: tok, pageSize: 1, page: 2 });
    expect(same(paged.results.map((t) => t.pk), [t2.pk]) && paged.pagination.count === 2, "page 2 of 1", paged);

    const read = await alice.api.core.coreTokensRetrieve({ identifier: `${tok}-1` });
    expect(read.pk === t1.pk && read.description === "first" && read.userObj.username === alice.user.username, "coreTokensRetrieve", read);
    const replaced = await alice.api.core.coreTokensUpdate({ identifier: `${tok}-1`, tokenRequest: { identifier: `${tok}-1`, description: "replaced" } });
    expect(replaced.description === "replaced", "coreTokensUpdate", replaced);
    const patchedTok = await alice.api.core.coreTokensPartialUpdate({ identifier: `${tok}-2`, patchedTokenRequest: { description: "patched" } });
    expect(patchedTok.description === "patched" && patchedTok.intent === "app_password", "coreTokensPartialUpdate", patchedTok);
    const key = await alice.api.core.coreTokensViewKeyRetrieve({ identifier: `${tok}-2` });
    expect(typeof key.key === "string" && key.key.length > 0, "view_key", key);
    secrets.push(key.key);
    const tokUse = await alice.api.core.coreTokensUsedByList({ identifier: `${tok}-2` });
    expect(Array.isArray(tokUse), "a token's used_by is not a list", tokUse);
    await alice.api.core.coreTokensDestroy({ identifier: `${tok}-2` });
    await expectStatus(404, admin.core.coreTokensViewKeyRetrieve({ identifier: `${tok}-2` }), "view_key of a deleted token");

    // used_by of a user: what deleting her takes with it.
    const userUse = await admin.core.coreUsersUsedByList({ id: alice.user.pk });
    for (const want of [t1.identifier, `${alice.user.username}-api`]) {
        expect(userUse.some((u) => u.modelName === "token" && u.action === "cascade" && u.name.includes(want)),
            `used_by of ${alice.user.username} does not name token ${want}`, userUse);
    }
    for (const u of [...users, alice.user]) {
        await admin.core.coreUsersDestroy({ id: u.pk });
    }
    const gone = await admin.core.coreTokensList({ search: tok });
    expect(gone.pagination.count === 0, "a deleted user's tokens are still listed", gone);
    return `users ${prefix}-a/b/c and ${alice.user.username}, tokens ${tok}-1/2`;
}

await run(main, secrets);
