package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// adminFixture is a small community: one admin, a moderator, three users
// and a guest, two rooms (one archived) with messages, and helpers to bend
// times that the store sets itself.
type adminFixture struct {
	s                  *Store
	admin, mod         User
	ada, bob, cy, gus  User // gus is a guest
	lobby, den, attic  Room // attic is archived
	lobbyMsgs, denMsgs []int64
}

func newAdminFixture(t *testing.T) *adminFixture {
	t.Helper()
	ctx := context.Background()
	s := openTest(t, Config{})
	f := &adminFixture{s: s}
	mk := func(name string, role Role) User {
		u, err := s.CreateUser(ctx, name, []byte("hash"), role)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	f.admin = mk("root", RoleAdmin)
	f.mod = mk("Mod", RoleModerator)
	f.ada = mk("ada", RoleUser)
	f.bob = mk("Bob", RoleUser)
	f.cy = mk("cy", RoleUser)
	g, err := s.CreateGuest(ctx, "gus")
	if err != nil {
		t.Fatal(err)
	}
	f.gus = g
	room := func(name, title string) Room {
		r, err := s.CreateRoom(ctx, NewRoom{Name: name, Title: title, CreatorID: f.admin.ID})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	f.lobby = room("lobby", "The Lobby")
	f.den = room("den", "Quiet den")
	f.attic = room("attic", "Old stuff")
	if err := s.SetRoomArchived(ctx, f.admin.ID, f.attic.ID, true); err != nil {
		t.Fatal(err)
	}
	post := func(r Room, u User, body string) int64 {
		return mustAppend(t, s, NewMessage{RoomID: r.ID, AuthorID: u.ID, Body: body}).ID
	}
	// ada 3 messages, bob 2, cy 1, gus 1, mod 0, root 0.
	f.lobbyMsgs = []int64{
		post(f.lobby, f.ada, "hello all"),
		post(f.lobby, f.bob, "Hi ada"),
		post(f.lobby, f.ada, "SPAM spam"),
		post(f.lobby, f.gus, "guest here"),
		post(f.lobby, f.cy, "bye"),
	}
	f.denMsgs = []int64{
		post(f.den, f.ada, "quiet spam"),
		post(f.den, f.bob, "shh"),
	}
	return f
}

// exec changes rows behind the store's back, for times the store sets.
func (f *adminFixture) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := f.s.writeDB.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func (f *adminFixture) auditCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.s.readDB.QueryRow(`SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *adminFixture) user(t *testing.T, id int64) User {
	t.Helper()
	u, err := f.s.UserByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func userNames(rows []UserRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Name
	}
	return out
}

func TestQueryUsersFiltersAndSorts(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	at := now()
	// Joined: root and Mod the same millisecond (a tie), then the others a
	// day apart each, gus newest.
	base := at.Add(-10 * 24 * time.Hour)
	for i, u := range []User{f.admin, f.mod, f.ada, f.bob, f.cy, f.gus} {
		day := max(i-1, 0)
		f.exec(t, `UPDATE users SET created_at = ? WHERE id = ?`, toMillis(base.Add(time.Duration(day)*24*time.Hour)), u.ID)
	}
	if err := f.s.MuteAs(ctx, Actor{ID: f.mod.ID}, f.bob.ID, at.Add(time.Hour), "loud"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.MuteAs(ctx, Actor{ID: f.mod.ID}, f.cy.ID, at.Add(time.Hour), "loud"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.BanAs(ctx, Actor{ID: f.mod.ID}, f.cy.ID, Forever(), "spam"); err != nil {
		t.Fatal(err)
	}
	// An expired ban counts as none.
	f.exec(t, `UPDATE users SET banned_until = ? WHERE id = ?`, toMillis(at.Add(-time.Minute)), f.gus.ID)

	for _, tt := range []struct {
		name  string
		q     UserQuery
		want  []string
		total int
	}{
		{"all by name", UserQuery{}, []string{"ada", "Bob", "cy", "gus", "Mod", "root"}, 6},
		{"by name desc", UserQuery{Sort: "name", Desc: true}, []string{"root", "Mod", "gus", "cy", "Bob", "ada"}, 6},
		{"search any case", UserQuery{Search: "O"}, []string{"Bob", "Mod", "root"}, 3},
		{"search is literal", UserQuery{Search: "%"}, []string{}, 0},
		{"role", UserQuery{Role: RoleModerator}, []string{"Mod"}, 1},
		{"guests only", UserQuery{Guests: ptr(true)}, []string{"gus"}, 1},
		{"registered only", UserQuery{Guests: ptr(false), Sort: "joined"}, []string{"root", "Mod", "ada", "Bob", "cy"}, 5},
		{"muted now", UserQuery{Muted: true}, []string{"Bob", "cy"}, 2},
		{"muted later: none", UserQuery{Muted: true, Now: at.Add(2 * time.Hour)}, []string{}, 0},
		{"banned now", UserQuery{Banned: true}, []string{"cy"}, 1},
		{"muted and banned", UserQuery{Muted: true, Banned: true, Search: "c"}, []string{"cy"}, 1},
		// The tie on joined falls back to the id: root (1) before Mod (2).
		{"joined", UserQuery{Sort: "joined"}, []string{"root", "Mod", "ada", "Bob", "cy", "gus"}, 6},
		{"joined desc", UserQuery{Sort: "joined", Desc: true}, []string{"gus", "cy", "Bob", "ada", "Mod", "root"}, 6},
		// Messages: ada 3, bob 2, cy 1, gus 1, then root and Mod 0 (ties by id).
		{"messages", UserQuery{Sort: "messages"}, []string{"root", "Mod", "cy", "gus", "Bob", "ada"}, 6},
		{"messages desc", UserQuery{Sort: "messages", Desc: true}, []string{"ada", "Bob", "gus", "cy", "Mod", "root"}, 6},
		{"limit", UserQuery{Limit: 2}, []string{"ada", "Bob"}, 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows, next, total, err := f.s.QueryUsers(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := userNames(rows); !slices.Equal(got, tt.want) || total != tt.total {
				t.Errorf("got %q, total %d; want %q, total %d", got, total, tt.want, tt.total)
			}
			if (next != "") != (tt.q.Limit > 0 && tt.total > tt.q.Limit) {
				t.Errorf("next = %q with %d of %d", next, len(rows), total)
			}
			for _, r := range rows {
				if r.PasswordHash != nil {
					t.Errorf("%s: the hash left the store", r.Name)
				}
			}
		})
	}
	// Rows carry the counts and states.
	rows, _, _, err := f.s.QueryUsers(ctx, UserQuery{Search: "cy"})
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	if r := rows[0]; r.Messages != 1 || !r.BannedAt(at) || !IsForever(r.BannedUntil) || r.BanReason != "spam" || !r.MutedAt(at) {
		t.Errorf("cy's row = %+v", r)
	}
}

// Paging through every sort, both ways, two and three rows at a time, gives
// exactly the rows of one big page, ties included, even when rows change
// between pages.
func TestQueryUsersPagingIsStable(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	same := toMillis(now().Add(-time.Hour))
	f.exec(t, `UPDATE users SET created_at = ?`, same) // every join time ties
	for _, sort := range []string{"name", "joined", "messages"} {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{1, 2, 3} {
				t.Run(fmt.Sprintf("%s/desc=%v/limit=%d", sort, desc, limit), func(t *testing.T) {
					q := UserQuery{Sort: sort, Desc: desc}
					all, next, _, err := f.s.QueryUsers(ctx, q)
					if err != nil || next != "" {
						t.Fatalf("one page: next %q, %v", next, err)
					}
					q.Limit = limit
					var paged []string
					for page := 0; ; page++ {
						rows, next, total, err := f.s.QueryUsers(ctx, q)
						if err != nil {
							t.Fatal(err)
						}
						if total != len(all) {
							t.Errorf("total = %d, want %d", total, len(all))
						}
						paged = append(paged, userNames(rows)...)
						if next == "" {
							break
						}
						if page > 10 {
							t.Fatal("paging does not end")
						}
						q.After = next
					}
					if !slices.Equal(paged, userNames(all)) {
						t.Errorf("paged %q, want %q", paged, userNames(all))
					}
				})
			}
		}
	}

	// A new row on an earlier page does not shift the next one.
	q := UserQuery{Sort: "joined", Limit: 3}
	first, next, _, err := f.s.QueryUsers(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.CreateUser(ctx, "aaa", []byte("h"), RoleUser); err != nil {
		t.Fatal(err)
	}
	f.exec(t, `UPDATE users SET created_at = ? WHERE name = 'aaa'`, same-1)
	q.After = next
	second, _, _, err := f.s.QueryUsers(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := append(userNames(first), userNames(second)...); !slices.Equal(got, []string{"root", "Mod", "ada", "Bob", "cy", "gus"}) {
		t.Errorf("pages around an insert = %q", got)
	}
}

func TestQueryUsersRefusesBadInput(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	_, next, _, err := f.s.QueryUsers(ctx, UserQuery{Sort: "joined", Limit: 1})
	if err != nil || next == "" {
		t.Fatal(next, err)
	}
	for name, q := range map[string]UserQuery{
		"unknown sort":        {Sort: "shoe size"},
		"unknown role":        {Role: "emperor"},
		"garbage cursor":      {After: "!!!"},
		"cursor not json":     {After: "bm90IGpzb24"},
		"cursor of a sort":    {Sort: "name", After: next},
		"cursor of an order":  {Sort: "joined", Desc: true, After: next},
		"cursor of the rooms": {After: cursor{Sort: "room", Str: "a", ID: 1}.encode()},
	} {
		if _, _, _, err := f.s.QueryUsers(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestSetRoleAs(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	a := Actor{ID: f.admin.ID, Address: "192.0.2.7"}
	// Steps run in order; each sees the state the ones before left.
	for _, step := range []struct {
		name    string
		user    int64
		role    Role
		wantErr []error
		want    Role
	}{
		{"demote the only admin", f.admin.ID, RoleUser, []error{ErrLastAdmin}, RoleAdmin},
		{"unknown role", f.ada.ID, "emperor", []error{ErrInvalid}, RoleUser},
		{"unknown user", 999, RoleModerator, []error{ErrNotFound}, ""},
		{"same role", f.mod.ID, RoleModerator, []error{ErrConflict, ErrInvalid}, RoleModerator},
		{"guest", f.gus.ID, RoleModerator, []error{ErrInvalid}, RoleUser},
		{"promote", f.ada.ID, RoleAdmin, nil, RoleAdmin},
		{"now the first admin may go", f.admin.ID, RoleModerator, nil, RoleModerator},
		{"but not the second", f.ada.ID, RoleUser, []error{ErrLastAdmin}, RoleAdmin},
		{"admin to admin is a no-op refused", f.ada.ID, RoleAdmin, []error{ErrConflict}, RoleAdmin},
	} {
		before := f.auditCount(t)
		err := f.s.SetRoleAs(ctx, a, step.user, step.role)
		for _, want := range step.wantErr {
			if !errors.Is(err, want) {
				t.Errorf("%s: err = %v, want %v", step.name, err, want)
			}
		}
		if step.wantErr == nil && err != nil {
			t.Errorf("%s: %v", step.name, err)
		}
		if step.want != "" {
			if u := f.user(t, step.user); u.Role != step.want {
				t.Errorf("%s: role %s, want %s", step.name, u.Role, step.want)
			}
		}
		wantRows := before
		if step.wantErr == nil {
			wantRows++
		}
		if got := f.auditCount(t); got != wantRows {
			t.Errorf("%s: %d audit rows, want %d", step.name, got, wantRows)
		}
	}
	e, err := f.s.QueryAudit(ctx, AuditQuery{Action: ActionSetRole, Limit: 1})
	if err != nil || len(e) != 1 {
		t.Fatal(e, err)
	}
	want := AuditEntry{ID: e[0].ID, ActorID: f.admin.ID, ActorName: "root", Action: ActionSetRole,
		Target: userTarget(f.admin.ID), Details: "moderator (was admin)", Address: "192.0.2.7", CreatedAt: e[0].CreatedAt}
	if e[0] != want {
		t.Errorf("audit = %+v\nwant   %+v", e[0], want)
	}
	// The tools' SetRole keeps the rule too, and accepts the same role.
	if err := f.s.SetRole(ctx, f.admin.ID, f.ada.ID, RoleUser); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("SetRole of the last admin: %v", err)
	}
	if err := f.s.SetRole(ctx, f.admin.ID, f.ada.ID, RoleAdmin); err != nil {
		t.Errorf("SetRole to the same role: %v", err)
	}
}

// A banned admin cannot act, so does not count: the last admin who is not
// banned can be neither demoted nor banned.
func TestLastAdminCountsOnlyAdminsWhoCanAct(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	a := Actor{ID: f.admin.ID}
	if n, err := f.s.CountAdmins(ctx); err != nil || n != 1 {
		t.Fatalf("CountAdmins = %d, %v", n, err)
	}
	if _, err := f.s.BanAs(ctx, a, f.admin.ID, Forever(), "oops"); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("ban the only admin: %v", err)
	}
	if err := f.s.SetRoleAs(ctx, a, f.bob.ID, RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.s.CountAdmins(ctx); n != 2 {
		t.Errorf("CountAdmins = %d, want 2", n)
	}
	if _, err := f.s.BanAs(ctx, a, f.bob.ID, now().Add(time.Hour), "test"); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.s.CountAdmins(ctx); n != 1 {
		t.Errorf("CountAdmins with one banned = %d, want 1", n)
	}
	for name, err := range map[string]error{
		"ban the last unbanned admin":    second(f.s.BanAs(ctx, a, f.admin.ID, Forever(), "x")),
		"demote the last unbanned admin": f.s.SetRoleAs(ctx, a, f.admin.ID, RoleModerator),
	} {
		if !errors.Is(err, ErrLastAdmin) || !strings.Contains(err.Error(), "root") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The banned admin may be demoted: someone who can act remains.
	if err := f.s.SetRoleAs(ctx, a, f.bob.ID, RoleUser); err != nil {
		t.Errorf("demote the banned admin: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestBanAs(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	a := Actor{ID: f.mod.ID, Address: "2001:db8::1"}
	at := now()
	v0 := f.user(t, f.ada.ID).SessionVersion
	for _, step := range []struct {
		name        string
		user        int64
		until       time.Time
		wantErr     []error
		wantVersion int64 // 0: unchanged and not checked against the result
		wantBanned  bool
	}{
		{"unban who is not banned", f.ada.ID, time.Time{}, []error{ErrConflict, ErrInvalid}, 0, false},
		{"in the past", f.ada.ID, at.Add(-time.Second), []error{ErrInvalid}, 0, false},
		{"unknown user", 999, at.Add(time.Hour), []error{ErrNotFound}, 0, false},
		{"ban", f.ada.ID, at.Add(time.Hour), nil, v0 + 1, true},
		{"ban twice", f.ada.ID, Forever(), []error{ErrConflict}, 0, true},
		{"unban", f.ada.ID, time.Time{}, nil, v0 + 1, false},
		{"ban for good", f.ada.ID, Forever(), nil, v0 + 2, true},
	} {
		before := f.auditCount(t)
		v, err := f.s.BanAs(ctx, a, step.user, step.until, "spam")
		for _, want := range step.wantErr {
			if !errors.Is(err, want) {
				t.Errorf("%s: err = %v, want %v", step.name, err, want)
			}
		}
		wantRows := before
		if step.wantErr == nil {
			wantRows++
			if err != nil || v != step.wantVersion {
				t.Errorf("%s: version %d, %v; want %d", step.name, v, err, step.wantVersion)
			}
		}
		if got := f.auditCount(t); got != wantRows {
			t.Errorf("%s: %d audit rows, want %d", step.name, got, wantRows)
		}
		if step.user == f.ada.ID {
			u := f.user(t, f.ada.ID)
			if u.BannedAt(now()) != step.wantBanned {
				t.Errorf("%s: banned = %v", step.name, !step.wantBanned)
			}
			if step.wantVersion != 0 && u.SessionVersion != step.wantVersion {
				t.Errorf("%s: stored session version %d, want %d", step.name, u.SessionVersion, step.wantVersion)
			}
		}
	}
	entries, err := f.s.QueryAudit(ctx, AuditQuery{Target: userTarget(f.ada.ID)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Address != a.Address || e.ActorName != "Mod" {
			t.Errorf("entry %+v: want address %s by Mod", e, a.Address)
		}
		got = append(got, e.Action+" "+strings.SplitN(e.Details, ":", 2)[0])
	}
	if len(got) != 3 || got[0] != "ban for good" || got[1] != "unban lifted" || !strings.HasPrefix(got[2], "ban until ") {
		t.Errorf("audit = %q", got)
	}
	_, err = f.s.BanAs(ctx, a, f.ada.ID, Forever(), "spam")
	if want := "ban user " + fmt.Sprint(f.ada.ID) + ": store: conflict: ada is already banned for good"; err == nil || err.Error() != want {
		t.Errorf("ban twice says %q, want %q", err, want)
	}
	if u := f.user(t, f.ada.ID); u.BanReason != "spam" {
		t.Errorf("ban reason %q", u.BanReason)
	}
}

func TestMuteAs(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	a := Actor{ID: f.mod.ID, Address: "198.51.100.2"}
	at := now()
	v0 := f.user(t, f.bob.ID).SessionVersion
	for _, step := range []struct {
		name      string
		until     time.Time
		wantErr   []error
		wantMuted bool
	}{
		{"unmute who is not muted", time.Time{}, []error{ErrConflict, ErrInvalid}, false},
		{"in the past", at.Add(-time.Minute), []error{ErrInvalid}, false},
		{"mute", at.Add(10 * time.Minute), nil, true},
		{"mute twice", at.Add(time.Hour), []error{ErrConflict}, true},
		{"unmute", time.Time{}, nil, false},
		{"mute for good", Forever(), nil, true},
	} {
		before := f.auditCount(t)
		err := f.s.MuteAs(ctx, a, f.bob.ID, step.until, "shouting")
		for _, want := range step.wantErr {
			if !errors.Is(err, want) {
				t.Errorf("%s: err = %v, want %v", step.name, err, want)
			}
		}
		if step.wantErr == nil && err != nil {
			t.Errorf("%s: %v", step.name, err)
		}
		wantRows := before
		if step.wantErr == nil {
			wantRows++
		}
		if got := f.auditCount(t); got != wantRows {
			t.Errorf("%s: %d audit rows, want %d", step.name, got, wantRows)
		}
		u := f.user(t, f.bob.ID)
		if u.MutedAt(now()) != step.wantMuted || u.SessionVersion != v0 {
			t.Errorf("%s: muted %v, session version %d (want %v, %d)", step.name, u.MutedAt(now()), u.SessionVersion, step.wantMuted, v0)
		}
		// The reason is kept while muted, for the user and the dashboard.
		if wantReason := map[bool]string{true: "shouting", false: ""}[step.wantMuted]; u.MuteReason != wantReason {
			t.Errorf("%s: mute reason %q, want %q", step.name, u.MuteReason, wantReason)
		}
	}
	if err := f.s.MuteAs(ctx, a, 999, Forever(), "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("mute an unknown user: %v", err)
	}
	entries, err := f.s.QueryAudit(ctx, AuditQuery{Target: userTarget(f.bob.ID), Limit: 2})
	if err != nil || len(entries) != 2 {
		t.Fatal(entries, err)
	}
	if e := entries[0]; e.Action != ActionMute || e.Details != "for good: shouting" || e.Address != a.Address {
		t.Errorf("newest = %+v", e)
	}
	if e := entries[1]; e.Action != ActionUnmute || e.Details != "lifted: shouting" {
		t.Errorf("before it = %+v", e)
	}
}

// The change and its audit entry commit together: an audit insert that
// fails (an actor who does not exist breaks its foreign key) undoes the
// change, and a refused change writes no entry.
func TestModerationAndAuditAreOneTransaction(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	ghost := Actor{ID: 4242, Address: "203.0.113.9"}
	report, err := f.s.ReportMessage(ctx, f.bob.ID, f.lobbyMsgs[0], "rude")
	if err != nil {
		t.Fatal(err)
	}
	before := f.auditCount(t)
	v0 := f.user(t, f.ada.ID).SessionVersion
	for name, err := range map[string]error{
		"role":    f.s.SetRoleAs(ctx, ghost, f.ada.ID, RoleModerator),
		"mute":    f.s.MuteAs(ctx, ghost, f.ada.ID, Forever(), "x"),
		"ban":     second(f.s.BanAs(ctx, ghost, f.ada.ID, Forever(), "x")),
		"resolve": f.s.ResolveReportAs(ctx, ghost, report.ID, ResolutionDismissed),
		"delete":  f.s.DeleteMessageAs(ctx, ghost, f.lobbyMsgs[0], "x"),
		"room": func() error {
			locked := true
			_, err := f.s.submitWait(ctx, RoomChange{RoomID: f.lobby.ID, ActorID: ghost.ID, Address: ghost.Address, Locked: &locked})
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s by an unknown actor succeeded", name)
		}
	}
	if got := f.auditCount(t); got != before {
		t.Errorf("%d audit rows after failed changes, want %d", got, before)
	}
	u := f.user(t, f.ada.ID)
	if u.Role != RoleUser || u.MutedAt(now()) || u.BannedAt(now()) || u.SessionVersion != v0 {
		t.Errorf("failed changes left %+v", u)
	}
	if m, _ := f.s.MessageByID(ctx, f.lobbyMsgs[0], ModeratorView); m.Deleted() {
		t.Error("failed delete deleted the message")
	}
	if r, _ := f.s.RoomByID(ctx, f.lobby.ID); r.Locked {
		t.Error("failed room change locked the room")
	}
	if open, n, _ := f.s.QueryReports(ctx, true, 0, 10); n != 1 || len(open) != 1 {
		t.Errorf("failed resolve closed the report: %d open", n)
	}
}

// Every moderation write records the actor's address, including the
// writes that go through the writer (room changes and deletions).
func TestAuditRecordsTheAddress(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	a := Actor{ID: f.mod.ID, Address: "192.0.2.44"}
	report, err := f.s.ReportMessage(ctx, f.bob.ID, f.lobbyMsgs[2], "spam")
	if err != nil {
		t.Fatal(err)
	}
	topic := "new topic"
	for _, tt := range []struct {
		action, target string
		do             func() error
	}{
		{ActionMute, userTarget(f.ada.ID), func() error { return f.s.MuteAs(ctx, a, f.ada.ID, Forever(), "x") }},
		{ActionBan, userTarget(f.bob.ID), func() error { return second(f.s.BanAs(ctx, a, f.bob.ID, Forever(), "x")) }},
		{ActionDeleteMessage, messageTarget(f.lobbyMsgs[2]), func() error { return f.s.DeleteMessageAs(ctx, a, f.lobbyMsgs[2], "spam") }},
		{ActionResolveReport, fmt.Sprintf("report:%d", report.ID), func() error {
			return f.s.ResolveReportAs(ctx, a, report.ID, ResolutionDeleted)
		}},
		{ActionChangeRoom, roomTarget(f.lobby.ID), func() error {
			slow := 5
			_, err := f.s.submitWait(ctx, RoomChange{RoomID: f.lobby.ID, ActorID: a.ID, Address: a.Address, SlowMode: &slow, Topic: &topic})
			return err
		}},
		{ActionDeleteMessage, messageTarget(f.denMsgs[0]), func() error {
			_, err := f.s.submitWait(ctx, DeleteMessage{RoomID: f.den.ID, MessageID: f.denMsgs[0], ActorID: a.ID,
				AsModerator: true, Reason: "spam", Address: a.Address})
			return err
		}},
	} {
		if err := tt.do(); err != nil {
			t.Fatalf("%s %s: %v", tt.action, tt.target, err)
		}
		e, err := f.s.QueryAudit(ctx, AuditQuery{Limit: 1})
		if err != nil || len(e) != 1 {
			t.Fatal(e, err)
		}
		if e[0].Action != tt.action || e[0].Target != tt.target || e[0].Address != a.Address ||
			e[0].ActorID != a.ID || e[0].ActorName != "Mod" || e[0].CreatedAt.IsZero() {
			t.Errorf("%s %s: audit %+v", tt.action, tt.target, e[0])
		}
	}
}

func TestDeleteMessageAs(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	a := Actor{ID: f.mod.ID, Address: "192.0.2.1"}
	id := f.lobbyMsgs[1]
	if err := f.s.DeleteMessageAs(ctx, a, id, "rude"); err != nil {
		t.Fatal(err)
	}
	m, err := f.s.MessageByID(ctx, id, ModeratorView)
	if err != nil || !m.Deleted() || m.DeletedBy != f.mod.ID {
		t.Errorf("after delete: %+v, %v", m, err)
	}
	evs, err := f.s.EventsAfter(ctx, f.lobby.ID, 0, 50, PublicView)
	if err != nil || evs[len(evs)-1].Kind != EventDelete || evs[len(evs)-1].MessageID != id {
		t.Errorf("no tombstone event: %+v, %v", evs, err)
	}
	before := f.auditCount(t)
	if err := f.s.DeleteMessageAs(ctx, a, id, "again"); !errors.Is(err, ErrConflict) {
		t.Errorf("delete twice: %v", err)
	}
	if err := f.s.DeleteMessageAs(ctx, a, 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete unknown: %v", err)
	}
	if f.auditCount(t) != before {
		t.Error("a refused delete wrote an audit row")
	}
}

func TestResolveReportAs(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	a := Actor{ID: f.mod.ID, Address: "192.0.2.3"}
	r, err := f.s.ReportMessage(ctx, f.bob.ID, f.lobbyMsgs[0], "rude")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name       string
		id         int64
		resolution string
		wantErr    []error
	}{
		{"unknown resolution", r.ID, "shrugged", []error{ErrInvalid}},
		{"unknown report", 999, ResolutionWarned, []error{ErrNotFound}},
		{"resolve", r.ID, ResolutionWarned, nil},
		{"resolve twice", r.ID, ResolutionDismissed, []error{ErrInvalid, ErrConflict}},
	} {
		before := f.auditCount(t)
		err := f.s.ResolveReportAs(ctx, a, step.id, step.resolution)
		for _, want := range step.wantErr {
			if !errors.Is(err, want) {
				t.Errorf("%s: err = %v, want %v", step.name, err, want)
			}
		}
		wantRows := before
		if step.wantErr == nil {
			wantRows++
			if err != nil {
				t.Errorf("%s: %v", step.name, err)
			}
		}
		if got := f.auditCount(t); got != wantRows {
			t.Errorf("%s: %d audit rows, want %d", step.name, got, wantRows)
		}
	}
	done, open, err := f.s.QueryReports(ctx, false, 0, 10)
	if err != nil || open != 0 || len(done) != 1 {
		t.Fatal(done, open, err)
	}
	if d := done[0]; d.Resolution != ResolutionWarned || d.ResolvedBy != f.mod.ID || d.ResolvedAt.IsZero() {
		t.Errorf("resolved report = %+v (the first resolution must stay)", d.Report)
	}
}

func TestQueryReports(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	var reports []Report
	for _, r := range []struct {
		by  User
		msg int64
	}{{f.bob, f.lobbyMsgs[2]}, {f.cy, f.lobbyMsgs[2]}, {f.ada, f.denMsgs[1]}, {f.gus, f.lobbyMsgs[0]}} {
		rep, err := f.s.ReportMessage(ctx, r.by.ID, r.msg, "reason of "+r.by.Name)
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, rep)
	}
	if err := f.s.DeleteMessageAs(ctx, Actor{ID: f.mod.ID}, f.lobbyMsgs[2], "spam"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.ResolveReportAs(ctx, Actor{ID: f.mod.ID}, reports[0].ID, ResolutionDeleted); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		open      bool
		after     int64
		limit     int
		want      []int64
		wantTotal int
	}{
		{"open, oldest first", true, 0, 0, []int64{reports[1].ID, reports[2].ID, reports[3].ID}, 3},
		{"open, paged", true, reports[1].ID, 1, []int64{reports[2].ID}, 3},
		{"resolved", false, 0, 0, []int64{reports[0].ID}, 3},
		{"resolved, after the last", false, reports[0].ID, 0, nil, 3},
	} {
		rows, total, err := f.s.QueryReports(ctx, tt.open, tt.after, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range rows {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, tt.want) || total != tt.wantTotal {
			t.Errorf("%s: got %v (total %d), want %v (total %d)", tt.name, got, total, tt.want, tt.wantTotal)
		}
	}
	rows, _, err := f.s.QueryReports(ctx, true, 0, 1)
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	r := rows[0]
	// The message is deleted: the moderator still reads its body, marked.
	if r.ReporterName != "cy" || r.Reason != "reason of cy" || r.Message.ID != f.lobbyMsgs[2] ||
		r.Message.Body != "SPAM spam" || !r.Message.Deleted() || r.Message.AuthorName != "ada" ||
		r.Message.RoomName != "lobby" || r.Message.Reports != 2 {
		t.Errorf("report row = %+v", r)
	}
}

func messageIDs(rows []MessageRow) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func TestQueryMessages(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	if err := f.s.DeleteMessageAs(ctx, Actor{ID: f.mod.ID}, f.lobbyMsgs[2], "spam"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.ReportMessage(ctx, f.bob.ID, f.lobbyMsgs[0], "x"); err != nil {
		t.Fatal(err)
	}
	l, d := f.lobbyMsgs, f.denMsgs
	for _, tt := range []struct {
		name string
		q    MessageQuery
		want []int64
	}{
		{"everything, newest first", MessageQuery{IncludeDeleted: true}, []int64{d[1], d[0], l[4], l[3], l[2], l[1], l[0]}},
		{"without deleted", MessageQuery{}, []int64{d[1], d[0], l[4], l[3], l[1], l[0]}},
		{"one room", MessageQuery{RoomID: f.den.ID}, []int64{d[1], d[0]}},
		{"author any case", MessageQuery{Author: "ADA", IncludeDeleted: true}, []int64{d[0], l[2], l[0]}},
		{"author in a room", MessageQuery{Author: "ada", RoomID: f.lobby.ID}, []int64{l[0]}},
		{"unknown author", MessageQuery{Author: "nobody"}, nil},
		{"unknown room", MessageQuery{RoomID: 999}, nil},
		{"text any case, deleted too", MessageQuery{Text: "spam", IncludeDeleted: true}, []int64{d[0], l[2]}},
		{"text is literal", MessageQuery{Text: "_"}, nil},
		{"before", MessageQuery{Before: l[3], IncludeDeleted: true}, []int64{l[2], l[1], l[0]}},
		{"before and limit", MessageQuery{Before: l[3], Limit: 2}, []int64{l[1], l[0]}},
	} {
		rows, err := f.s.QueryMessages(ctx, tt.q)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := messageIDs(rows); !slices.Equal(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	rows, err := f.s.QueryMessages(ctx, MessageQuery{RoomID: f.lobby.ID, IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch r.ID {
		case l[2]:
			if !r.Deleted() || r.Body != "SPAM spam" || r.DeletedBy != f.mod.ID {
				t.Errorf("deleted row = %+v", r)
			}
		case l[0]:
			if r.Reports != 1 || r.RoomName != "lobby" || r.AuthorName != "ada" {
				t.Errorf("reported row = %+v", r)
			}
		}
	}
}

func TestMessageContext(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	l := f.lobbyMsgs
	if err := f.s.DeleteMessageAs(ctx, Actor{ID: f.mod.ID}, l[1], "x"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		id     int64
		around int
		want   []int64
	}{
		{"middle", l[2], 1, []int64{l[1], l[2], l[3]}},
		{"start of the room", l[0], 2, []int64{l[0], l[1], l[2]}},
		{"end of the room", l[4], 2, []int64{l[2], l[3], l[4]}},
		{"more than the room", l[2], 50, l},
		{"none around", l[3], 0, []int64{l[3]}},
		{"negative is none", l[3], -4, []int64{l[3]}},
		// The den's messages have ids between none of the lobby's, yet
		// never leak into its context, nor the lobby's into the den's.
		{"other room", f.denMsgs[0], 10, f.denMsgs},
	} {
		rows, err := f.s.MessageContext(ctx, tt.id, tt.around)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := messageIDs(rows); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
		for _, r := range rows {
			if r.ID == l[1] && (r.Body != "Hi ada" || !r.Deleted()) {
				t.Errorf("%s: the deleted message reads %+v", tt.name, r.Message)
			}
		}
	}
	if _, err := f.s.MessageContext(ctx, 999, 3); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown message: %v", err)
	}
}

func roomNames(rows []RoomRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Name
	}
	return out
}

func TestQueryRooms(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	today := now().Truncate(24 * time.Hour)
	// Two of the lobby's messages are from yesterday, which the binary
	// search must step over.
	for _, id := range f.lobbyMsgs[:2] {
		f.exec(t, `UPDATE messages SET created_at = ? WHERE id = ?`, toMillis(today.Add(-time.Hour)), id)
	}
	for _, tt := range []struct {
		name     string
		search   string
		archived bool
		want     []string
		total    int
	}{
		{"live rooms by name", "", false, []string{"den", "lobby"}, 2},
		{"with archived", "", true, []string{"attic", "den", "lobby"}, 3},
		{"by title", "QUIET", true, []string{"den"}, 1},
		{"by name", "obb", false, []string{"lobby"}, 1},
		{"archived only found when asked", "stuff", false, []string{}, 0},
	} {
		rows, next, total, err := f.s.QueryRooms(ctx, tt.search, tt.archived, "", 0, today)
		if err != nil {
			t.Fatal(err)
		}
		if got := roomNames(rows); !slices.Equal(got, tt.want) || total != tt.total || next != "" {
			t.Errorf("%s: got %q total %d next %q; want %q total %d", tt.name, got, total, next, tt.want, tt.total)
		}
	}
	// Paging one at a time.
	var paged []string
	after := ""
	for range 5 {
		rows, next, total, err := f.s.QueryRooms(ctx, "", true, after, 1, today)
		if err != nil || total != 3 {
			t.Fatal(total, err)
		}
		paged = append(paged, roomNames(rows)...)
		if next == "" {
			break
		}
		after = next
	}
	if !slices.Equal(paged, []string{"attic", "den", "lobby"}) {
		t.Errorf("paged %q", paged)
	}
	if _, _, _, err := f.s.QueryRooms(ctx, "", true, "junk", 1, today); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad cursor: %v", err)
	}
	// Counts and activity.
	rows, _, _, err := f.s.QueryRooms(ctx, "", true, "", 0, today)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]RoomRow{}
	for _, r := range rows {
		byName[r.Name] = r
	}
	if r := byName["lobby"]; r.MessagesToday != 3 || r.LastActivity.Before(today) || r.Title != "The Lobby" {
		t.Errorf("lobby = %+v", r)
	}
	if r := byName["den"]; r.MessagesToday != 2 {
		t.Errorf("den = %+v", r)
	}
	if r := byName["attic"]; r.MessagesToday != 0 || !r.Archived || r.LastActivity.IsZero() {
		t.Errorf("attic (only its archive event) = %+v", r)
	}
	// Tomorrow nothing was posted; the day before yesterday all was.
	for day, want := range map[time.Time]int64{today.Add(24 * time.Hour): 0, today.Add(-48 * time.Hour): 5} {
		rows, _, _, err := f.s.QueryRooms(ctx, "lobby", false, "", 0, day)
		if err != nil || len(rows) != 1 || rows[0].MessagesToday != want {
			t.Errorf("messages since %s = %+v, %v; want %d", day, rows, err, want)
		}
	}
}

func TestFirstMessageAt(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	all := append(append([]int64(nil), f.lobbyMsgs...), f.denMsgs...)
	slices.Sort(all)
	base := now().Add(-time.Hour)
	for i, id := range all {
		f.exec(t, `UPDATE messages SET created_at = ? WHERE id = ?`, toMillis(base.Add(time.Duration(i)*time.Minute)), id)
	}
	for i := range len(all) + 1 {
		got, err := f.s.firstMessageAt(ctx, base.Add(time.Duration(i)*time.Minute))
		want := all[len(all)-1] + 1
		if i < len(all) {
			want = all[i]
		}
		if err != nil || got != want {
			t.Errorf("first message at minute %d = %d, %v; want %d", i, got, err, want)
		}
	}
}

func TestQueryAudit(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	mod, root := Actor{ID: f.mod.ID, Address: "10.0.0.1"}, Actor{ID: f.admin.ID, Address: "10.0.0.2"}
	steps := []func() error{
		func() error { return f.s.MuteAs(ctx, mod, f.ada.ID, Forever(), "a") },
		func() error { return f.s.MuteAs(ctx, root, f.bob.ID, Forever(), "b") },
		func() error { return second(f.s.BanAs(ctx, mod, f.ada.ID, Forever(), "c")) },
		func() error { return f.s.SetRoleAs(ctx, root, f.cy.ID, RoleModerator) },
	}
	for _, do := range steps {
		if err := do(); err != nil {
			t.Fatal(err)
		}
	}
	all, err := f.s.QueryAudit(ctx, AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's archive of the attic comes first (oldest).
	if len(all) != 5 || all[4].Action != ActionSetRoomArchived {
		t.Fatalf("audit = %+v", all)
	}
	actions := func(es []AuditEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Action+" "+e.Target+" by "+e.ActorName)
		}
		return out
	}
	ada, bob, cy := userTarget(f.ada.ID), userTarget(f.bob.ID), userTarget(f.cy.ID)
	for _, tt := range []struct {
		name string
		q    AuditQuery
		want []string
	}{
		{"by actor", AuditQuery{ActorID: f.mod.ID}, []string{"ban " + ada + " by Mod", "mute " + ada + " by Mod"}},
		{"by target", AuditQuery{Target: ada}, []string{"ban " + ada + " by Mod", "mute " + ada + " by Mod"}},
		{"by action", AuditQuery{Action: ActionMute}, []string{"mute " + bob + " by root", "mute " + ada + " by Mod"}},
		{"actor and action", AuditQuery{ActorID: f.admin.ID, Action: ActionSetRole}, []string{"set_role " + cy + " by root"}},
		{"before", AuditQuery{Before: all[1].ID, Limit: 2}, []string{"mute " + bob + " by root", "mute " + ada + " by Mod"}},
		{"nothing", AuditQuery{Target: "user:999"}, nil},
	} {
		got, err := f.s.QueryAudit(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(actions(got), tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, actions(got), tt.want)
		}
	}
	// AuditLog, the older list, reads the new columns too.
	old, err := f.s.AuditLog(ctx, 0, 1)
	if err != nil || len(old) != 1 || old[0] != all[0] {
		t.Errorf("AuditLog = %+v, %v; want %+v", old, err, all[0])
	}
}

// The audit filters and the reports queue walk indexes, not the tables.
func TestAdminQueryPlans(t *testing.T) {
	s := openTest(t, Config{})
	for name, tt := range map[string]struct{ query, want string }{
		"audit by actor":  {`SELECT ` + auditColumns + ` WHERE a.id < ? AND a.actor_id = ? ORDER BY a.id DESC LIMIT ?`, "audit_log_actor"},
		"audit by target": {`SELECT ` + auditColumns + ` WHERE a.id < ? AND a.target = ? ORDER BY a.id DESC LIMIT ?`, "audit_log_target"},
		"audit by action": {`SELECT ` + auditColumns + ` WHERE a.id < ? AND a.action = ? ORDER BY a.id DESC LIMIT ?`, "audit_log_action"},
		"open reports":    {`SELECT count(*) FROM reports WHERE resolved_at IS NULL`, "reports_open"},
		"admins":          {activeAdminsSQL, "users_role"},
		"context":         {messageContextSQL, "messages_room_id"},
	} {
		t.Run(name, func(t *testing.T) {
			rows, err := s.readDB.Query("EXPLAIN QUERY PLAN "+tt.query, 1, 1, 1)
			if err != nil {
				// The context query numbers its two parameters.
				rows, err = s.readDB.Query("EXPLAIN QUERY PLAN "+tt.query, 1, 1)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			text := strings.Join(plan, "\n")
			if strings.Contains(text, "SCAN a") || strings.Contains(text, "SCAN m") || !strings.Contains(text, tt.want) {
				t.Errorf("plan scans or does not use %s:\n%s", tt.want, text)
			}
		})
	}
}
