package store

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestMuteInRoomAs(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	a := Actor{ID: f.mod.ID, Address: "192.0.2.9"}
	at := now()
	for _, step := range []struct {
		name      string
		room      int64
		user      int64
		until     time.Time
		wantErr   []error
		wantMuted bool // in the lobby, afterwards
	}{
		{"unmute who is not muted", f.lobby.ID, f.ada.ID, time.Time{}, []error{ErrConflict, ErrInvalid}, false},
		{"in the past", f.lobby.ID, f.ada.ID, at.Add(-time.Minute), []error{ErrInvalid}, false},
		{"unknown room", 999, f.ada.ID, Forever(), []error{ErrNotFound}, false},
		{"unknown user", f.lobby.ID, 999, Forever(), []error{ErrNotFound}, false},
		{"mute in the lobby", f.lobby.ID, f.ada.ID, at.Add(time.Hour), nil, true},
		{"again", f.lobby.ID, f.ada.ID, Forever(), []error{ErrConflict}, true},
		{"in the den too", f.den.ID, f.ada.ID, Forever(), nil, true},
		{"unmute in the lobby", f.lobby.ID, f.ada.ID, time.Time{}, nil, false},
		{"mute again after the unmute", f.lobby.ID, f.ada.ID, at.Add(2 * time.Hour), nil, true},
	} {
		before := f.auditCount(t)
		err := f.s.MuteInRoomAs(ctx, a, step.room, step.user, step.until, "off topic")
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
		m, ok, err := f.s.RoomMuteOf(ctx, f.lobby.ID, f.ada.ID, now())
		if err != nil || ok != step.wantMuted || ok && (!m.MutedAt(now()) || m.UserName != "ada" || m.By != f.mod.ID) {
			t.Errorf("%s: RoomMuteOf = %+v, %v, %v; want muted %v", step.name, m, ok, err, step.wantMuted)
		}
	}
	// The room mute is not the server-wide one.
	if u := f.user(t, f.ada.ID); u.MutedAt(now()) {
		t.Error("a room mute muted the user everywhere")
	}
	if _, ok, _ := f.s.RoomMuteOf(ctx, f.lobby.ID, f.ada.ID, at.Add(3*time.Hour)); ok {
		t.Error("the mute is still in force after its end")
	}
	lobby, err := f.s.RoomMutes(ctx, f.lobby.ID, now(), 0, 10)
	if err != nil || len(lobby) != 1 || lobby[0].UserID != f.ada.ID || lobby[0].Reason != "off topic" {
		t.Errorf("RoomMutes(lobby) = %+v, %v", lobby, err)
	}
	mine, err := f.s.UserRoomMutes(ctx, f.ada.ID, now())
	if err != nil || len(mine) != 2 || mine[0].RoomID != f.lobby.ID || mine[1].RoomID != f.den.ID {
		t.Errorf("UserRoomMutes = %+v, %v", mine, err)
	}
	e, err := f.s.QueryAudit(ctx, AuditQuery{Target: userTarget(f.ada.ID), Action: ActionRoomUnmute})
	if err != nil || len(e) != 1 || e[0].Details != "in lobby lifted: off topic" || e[0].Address != a.Address {
		t.Errorf("unmute audit = %+v, %v", e, err)
	}
}

func TestParseBanPrefix(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want "": ErrInvalid
	}{
		{"192.0.2.7", "192.0.2.7/32"},
		{"192.0.2.7/24", "192.0.2.0/24"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"2001:db8:1:2::/48", "2001:db8:1::/48"},
		{"fe80::1%eth0", "fe80::1/128"},
		{"10.0.0.0/16", "10.0.0.0/16"},
		{"10.0.0.0/8", ""}, // too wide
		{"0.0.0.0/0", ""},
		{"2001:db8::/16", ""},
		{"::/0", ""},
		{"::ffff:0:0/90", ""},
		{"example.com", ""},
		{"", ""},
		{"192.0.2.300", ""},
	} {
		p, err := ParseBanPrefix(tt.in)
		switch {
		case tt.want == "" && !errors.Is(err, ErrInvalid):
			t.Errorf("ParseBanPrefix(%q) = %v, %v; want ErrInvalid", tt.in, p, err)
		case tt.want != "" && (err != nil || p.String() != tt.want):
			t.Errorf("ParseBanPrefix(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}

func TestAddressBans(t *testing.T) {
	f := newAdminFixture(t)
	ctx := context.Background()
	a := Actor{ID: f.mod.ID, Address: "198.51.100.1"}
	at := now()
	wide, err := f.s.BanAddressAs(ctx, a, "203.0.113.0/24", at.Add(time.Hour), "botnet")
	if err != nil {
		t.Fatal(err)
	}
	one, err := f.s.BanAddressAs(ctx, a, "203.0.113.77", Forever(), "that one")
	if err != nil {
		t.Fatal(err)
	}
	v6, err := f.s.BanAddressAs(ctx, a, "2001:db8:aa::/48", Forever(), "v6")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr string
		want int64 // 0: not banned
	}{
		{"203.0.113.5", wide.ID},
		{"203.0.113.0", wide.ID},
		{"203.0.113.255", wide.ID},
		{"203.0.113.77", one.ID}, // the narrowest of two
		{"::ffff:203.0.113.77", one.ID},
		{"203.0.114.0", 0},
		{"203.0.112.255", 0},
		{"2001:db8:aa:ffff::1", v6.ID},
		{"2001:db8:ab::1", 0},
		{"::cb00:7105", 0}, // IPv4-compatible, not mapped: another address
	} {
		b, ok, err := f.s.AddressBanned(ctx, netip.MustParseAddr(tt.addr), now())
		if err != nil || ok != (tt.want != 0) || ok && b.ID != tt.want {
			t.Errorf("AddressBanned(%s) = %+v, %v, %v; want ban %d", tt.addr, b, ok, err, tt.want)
		}
	}
	if _, ok, _ := f.s.AddressBanned(ctx, netip.MustParseAddr("203.0.113.5"), at.Add(2*time.Hour)); ok {
		t.Error("the /24 ban is in force after its end")
	}
	if _, _, err := f.s.AddressBanned(ctx, netip.Addr{}, now()); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid address: %v", err)
	}

	before := f.auditCount(t)
	for name, err := range map[string]error{
		"same range again":    second(f.s.BanAddressAs(ctx, a, "203.0.113.9/24", Forever(), "x")),
		"too wide":            second(f.s.BanAddressAs(ctx, a, "203.0.0.0/8", Forever(), "x")),
		"no end":              second(f.s.BanAddressAs(ctx, a, "192.0.2.1", time.Time{}, "x")),
		"in the past":         second(f.s.BanAddressAs(ctx, a, "192.0.2.1", at.Add(-time.Hour), "x")),
		"unban unknown":       f.s.UnbanAddressAs(ctx, a, 999, "x"),
		"by an unknown actor": second(f.s.BanAddressAs(ctx, Actor{ID: 4242}, "192.0.2.1", Forever(), "x")),
	} {
		if err == nil {
			t.Errorf("%s: succeeded", name)
		}
	}
	if f.auditCount(t) != before {
		t.Error("refused address bans wrote audit rows")
	}
	if _, ok, _ := f.s.AddressBanned(ctx, netip.MustParseAddr("192.0.2.1"), now()); ok {
		t.Error("a refused ban is in force")
	}

	if err := f.s.UnbanAddressAs(ctx, a, wide.ID, "cleaned up"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.UnbanAddressAs(ctx, a, wide.ID, "again"); !errors.Is(err, ErrConflict) {
		t.Errorf("unban twice: %v", err)
	}
	if _, ok, _ := f.s.AddressBanned(ctx, netip.MustParseAddr("203.0.113.5"), now()); ok {
		t.Error("unbanned range still banned")
	}
	live, err := f.s.AddressBans(ctx, now(), 0, 10)
	if err != nil || len(live) != 2 || live[0].ID != one.ID || live[1].Prefix.String() != "2001:db8:aa::/48" || live[0].ByName != "Mod" {
		t.Errorf("AddressBans = %+v, %v", live, err)
	}
	// An ended ban of a range can be made again; it keeps its row.
	again, err := f.s.BanAddressAs(ctx, a, "203.0.113.0/24", Forever(), "back")
	if err != nil || again.ID != wide.ID {
		t.Errorf("ban again = %+v, %v; want row %d", again, err, wide.ID)
	}
	e, err := f.s.QueryAudit(ctx, AuditQuery{Target: "address:203.0.113.0/24"})
	if err != nil || len(e) != 3 || e[0].Action != ActionAddressBan || e[1].Action != ActionAddressUnban ||
		e[1].Details != "lifted: cleaned up" || e[2].Address != a.Address {
		t.Errorf("address audit = %+v, %v", e, err)
	}
}
