// Users and tokens through authentik's TypeScript client, as an
// administrator and an ordinary user use them (lib.mjs: how to run).
//
// The superuser creates users and lists them with filters, search,
// ordering and pages, reads, replaces and patches one; an ordinary user
// reads herself (users/me), makes her own tokens, lists, reads, changes
// and deletes them, views a key; used_by lists what deleting a user takes
// with it; the users are deleted.
//
// With authentik 2026.8's client (v2026) it also checks what 2026.8 adds
// to users: date_joined, last_updated and password_change_date, roles and
// roles_obj (null with include_roles=false), the date and roles filters,
// the 400s for an unknown role, users/me's `users` and is_current, and the
// same user fields in a token's user_obj.
import { randomUUID } from "node:crypto";
import { apiKey, as, expect, expectStatus, makeUser, run, same, stamp, v2026, validDate } from "./lib.mjs";

const admin = as(apiKey);
const secrets = [apiKey];

async function main() {
    const me = await admin.core.coreUsersMeRetrieve();
    expect(me.user.isSuperuser && me.user.username, "users/me of the superuser", me);
    if (v2026) {
        checkMe2026(me, "users/me of the superuser");
    }

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
    if (v2026) {
        await users2026(users, mine);
    }

    const got = await admin.core.coreUsersRetrieve({ id: a.pk });
    expect(got.username === a.username && got.uuid === a.uuid, "coreUsersRetrieve", got);
    const put = await admin.core.coreUsersUpdate({
        id: c.pk, userRequest: { username: c.username, name: `TS c renamed ${stamp}`, isActive: true, attributes: { team: "ts" } },
    });
    expect(put.name === `TS c renamed ${stamp}` && put.isActive && put.attributes.team === "ts", "coreUsersUpdate", put);
    const patched = await admin.core.coreUsersPartialUpdate({ id: b.pk, patchedUserRequest: { email: `b2-${stamp}@example.org` } });
    expect(patched.email === `b2-${stamp}@example.org` && patched.name === b.name, "coreUsersPartialUpdate", patched);
    if (v2026) {
        // A change of the profile moves last_updated only.
        for (const [what, before, after] of [["coreUsersUpdate", c, put], ["coreUsersPartialUpdate", b, patched]]) {
            checkUser2026(after, what);
            expect(after.dateJoined.getTime() === before.dateJoined.getTime() && after.passwordChangeDate.getTime() === before.passwordChangeDate.getTime(),
                `${what} changed date_joined or password_change_date`, { before, after });
            expect(after.lastUpdated >= before.lastUpdated, `${what}: last_updated went back`, { before, after });
        }
    }

    // Tokens: an ordinary user's own.
    const alice = await makeUser(admin, `ts-alice-${stamp}`);
    secrets.push(alice.key);
    const herMe = await alice.api.core.coreUsersMeRetrieve();
    expect(herMe.user.pk === alice.user.pk && !herMe.user.isSuperuser, "users/me of an ordinary user", herMe);
    if (v2026) {
        checkMe2026(herMe, "users/me of an ordinary user");
    }
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
    if (v2026) {
        // user_obj is 2026.8's User.
        for (const [what, t] of [["coreTokensCreate", t1], ["coreTokensRetrieve", read], ["coreTokensList", hers.results[0]]]) {
            expect(t.userObj && t.userObj.pk === alice.user.pk, `${what}: user_obj is not her`, t);
            checkUser2026(t.userObj, `${what}: user_obj`);
        }
    }
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

// checkUser2026 checks what 2026.8 adds to a User, for a user of no
// role and no group: three dates, roles [] and roles_obj [] (with
// include_roles at its default), and groups_obj of PartialGroup.
function checkUser2026(u, what) {
    expect(validDate(u.dateJoined) && validDate(u.lastUpdated) && validDate(u.passwordChangeDate),
        `${what}: date_joined, last_updated, password_change_date are not date-times`, u);
    expect(u.lastUpdated >= u.dateJoined, `${what}: last_updated is before date_joined`, u);
    expect(same(u.roles, []) && same(u.rolesObj, []), `${what}: roles and roles_obj of a user with no role are not []`, u);
    expect(Array.isArray(u.groupsObj) || u.groupsObj === null, `${what}: groups_obj`, u);
}

// checkMe2026: 2026.8's users/me lists the users of the session, the
// caller among them, marked current, and so is the user it answers for.
function checkMe2026(me, what) {
    expect(me.user.isCurrent === true, `${what}: user.is_current is not true`, me);
    expect(Array.isArray(me.user.roles) && Array.isArray(me.user.groups), `${what}: user.roles, user.groups`, me);
    expect(Array.isArray(me.users) && me.users.some((u) => u.pk === me.user.pk && u.username === me.user.username && u.isCurrent === true),
        `${what}: users does not hold the caller with is_current`, me);
}

// users2026: users a, b and c (this run's, just created) through what
// 2026.8 adds: the user fields, include_roles, the date filters and
// last_login__isnull, roles_by_pk and roles of a role that does not exist.
async function users2026(users, mine) {
    const [a, , c] = users;
    for (const u of users) {
        checkUser2026(u, `coreUsersCreate ${u.username}`);
        expect(u.lastLogin === undefined || u.lastLogin === null, `coreUsersCreate ${u.username}: a new user has a last_login`, u);
    }
    const listed = await admin.core.coreUsersList({ ...mine, ordering: "username" });
    listed.results.forEach((u) => checkUser2026(u, `coreUsersList ${u.username}`));
    const noRoles = await admin.core.coreUsersList({ ...mine, includeRoles: false });
    expect(noRoles.results.length === 3 && noRoles.results.every((u) => u.rolesObj === null && Array.isArray(u.roles)),
        "include_roles=false: roles_obj is not null", noRoles.results);

    const second = 1000;
    const pks = (list) => list.results.map((u) => u.pk);
    const all = users.map((u) => u.pk);
    const after = await admin.core.coreUsersList({ ...mine, ordering: "username", dateJoinedGt: new Date(a.dateJoined.getTime() - second) });
    expect(same(pks(after), all), "date_joined__gt a second before the first was created", after.results);
    const none = await admin.core.coreUsersList({ ...mine, dateJoinedGt: new Date(c.dateJoined.getTime() + second) });
    expect(none.pagination.count === 0, "date_joined__gt a second after the last was created", none.results);
    const before = await admin.core.coreUsersList({ ...mine, ordering: "username", lastUpdatedLt: new Date(c.lastUpdated.getTime() + second) });
    expect(same(pks(before), all), "last_updated__lt a second after the last change", before.results);
    const older = await admin.core.coreUsersList({ ...mine, lastUpdatedLt: new Date(a.lastUpdated.getTime() - second) });
    expect(older.pagination.count === 0, "last_updated__lt a second before the first change", older.results);
    const never = await admin.core.coreUsersList({ ...mine, ordering: "username", lastLoginIsnull: true });
    expect(same(pks(never), all), "last_login__isnull=true: users who never logged in", never.results);
    const loggedIn = await admin.core.coreUsersList({ ...mine, lastLoginIsnull: false });
    expect(loggedIn.pagination.count === 0, "last_login__isnull=false", loggedIn.results);

    const role = randomUUID();
    const byRole = await expectStatus(400, admin.core.coreUsersList({ ...mine, rolesByPk: [role] }), "roles_by_pk of a role that does not exist");
    expect(Array.isArray(byRole.roles_by_pk) && byRole.roles_by_pk.some((m) => typeof m === "string" && m.includes(role)),
        "roles_by_pk of a role that does not exist: the 400 does not name roles_by_pk and the value", byRole);
    const username = `ts-user-roles-${stamp}`;
    const refused = await expectStatus(400, admin.core.coreUsersCreate({ userRequest: { username, name: "TS roles", roles: [role] } }),
        "a user with a role that does not exist");
    expect(same(refused, { roles: [`Invalid pk "${role}" - object does not exist.`] }), "the 400 of a role that does not exist", refused);
    const notMade = await admin.core.coreUsersList({ username });
    expect(notMade.pagination.count === 0, "the user refused for its role was created", notMade.results);
}

await run(main, secrets);
