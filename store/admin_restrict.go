package store

// Room-scoped mutes and address (CIDR) bans: the dashboard's finer
// restrictions beside the server-wide mute and ban of a user. The store
// records them and answers "is this one in force"; enforcing them (refusing
// a post in the room, refusing a connection or sign-in from the address) is
// the application's policy, as for the server-wide ones.

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"time"
)

// Actions of the finer restrictions in the audit log.
const (
	ActionRoomMute     = "room_mute"     // target the user; details "in ROOM until T: reason"
	ActionRoomUnmute   = "room_unmute"   // target the user; details "in ROOM lifted: reason"
	ActionAddressBan   = "address_ban"   // target "address:CIDR"
	ActionAddressUnban = "address_unban" // target "address:CIDR"
)

// RoomMute is a user's mute in one room.
type RoomMute struct {
	RoomID    int64
	UserID    int64
	UserName  string // filled by reads
	Until     time.Time
	Reason    string
	By        int64 // who muted
	CreatedAt time.Time
}

// MutedAt reports whether the mute is in force at t.
func (m RoomMute) MutedAt(t time.Time) bool { return t.Before(m.Until) }

// MuteInRoomAs mutes a user in one room until the given time (Forever: for
// good), with a reason, or with a zero time lifts that mute; the audit
// entry and the actor's address are written in the same transaction. The
// server-wide mute (MuteAs) is separate: each is lifted on its own. It
// refuses, changing nothing: an end not in the future (ErrInvalid), muting
// someone muted in the room or unmuting someone who is not (ErrConflict),
// an unknown room or user (ErrNotFound).
func (s *Store) MuteInRoomAs(ctx context.Context, a Actor, roomID, userID int64, until time.Time, reason string) error {
	what := fmt.Sprintf("mute user %d in room %d", userID, roomID)
	if until.IsZero() {
		what = "un" + what
	}
	at := now()
	if err := checkUntil(until, at); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return s.writeTx(ctx, what, func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		var room string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM rooms WHERE id = ?`, roomID).Scan(&room); err != nil {
			return fmt.Errorf("room %d: %w", roomID, notFound(err))
		}
		var current sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT until FROM room_mutes WHERE room_id = ? AND user_id = ?`,
			roomID, userID).Scan(&current)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		muted := current.Valid && toMillis(at) < current.Int64
		action := ActionRoomMute
		switch {
		case until.IsZero() && !muted:
			return conflict("%s is not muted in %s", u.Name, room)
		case until.IsZero():
			action = ActionRoomUnmute
			_, err = tx.ExecContext(ctx, `UPDATE room_mutes SET until = ? WHERE room_id = ? AND user_id = ?`,
				toMillis(at), roomID, userID)
		case muted:
			return conflict("%s is already muted in %s %s", u.Name, room, untilWords(fromMillis(current.Int64)))
		default:
			_, err = tx.ExecContext(ctx, `INSERT INTO room_mutes (room_id, user_id, until, reason, created_by, created_at)
				VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (room_id, user_id) DO UPDATE SET until = excluded.until, reason = excluded.reason,
					created_by = excluded.created_by, created_at = excluded.created_at`,
				roomID, userID, toMillis(until), reason, a.ID, toMillis(at))
		}
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, a, action, userTarget(userID), "in "+room+" "+untilDetails(until, reason))
	})
}

const roomMuteColumns = `rm.room_id, rm.user_id, u.name, rm.until, rm.reason, rm.created_by, rm.created_at
	FROM room_mutes AS rm JOIN users AS u ON u.id = rm.user_id`

func scanRoomMute(rows *sql.Rows) (RoomMute, error) {
	var (
		m                RoomMute
		until, createdAt int64
	)
	err := rows.Scan(&m.RoomID, &m.UserID, &m.UserName, &until, &m.Reason, &m.By, &createdAt)
	m.Until = fromMillis(until)
	m.CreatedAt = fromMillis(createdAt)
	return m, err
}

// RoomMuteOf returns the user's mute in the room if one is in force at t
// (ok false if none): what the application checks before a post.
func (s *Store) RoomMuteOf(ctx context.Context, roomID, userID int64, t time.Time) (m RoomMute, ok bool, err error) {
	mutes, err := queryAll(ctx, s, fmt.Sprintf("mute of user %d in room %d", userID, roomID),
		`SELECT `+roomMuteColumns+` WHERE rm.room_id = ? AND rm.user_id = ? AND rm.until > ?`,
		scanRoomMute, roomID, userID, toMillis(t))
	if err != nil || len(mutes) == 0 {
		return RoomMute{}, false, err
	}
	return mutes[0], true, nil
}

// RoomMutes returns up to limit mutes of a room in force at t, by user id
// after afterUserID (the last row's UserID pages on).
func (s *Store) RoomMutes(ctx context.Context, roomID int64, t time.Time, afterUserID int64, limit int) ([]RoomMute, error) {
	return queryAll(ctx, s, fmt.Sprintf("mutes of room %d", roomID),
		`SELECT `+roomMuteColumns+` WHERE rm.room_id = ? AND rm.user_id > ? AND rm.until > ?
		 ORDER BY rm.user_id LIMIT ?`,
		scanRoomMute, roomID, afterUserID, toMillis(t), clampLimit(limit))
}

// UserRoomMutes returns the user's room mutes in force at t (at most
// MaxPageSize), by room id.
func (s *Store) UserRoomMutes(ctx context.Context, userID int64, t time.Time) ([]RoomMute, error) {
	return queryAll(ctx, s, fmt.Sprintf("room mutes of user %d", userID),
		`SELECT `+roomMuteColumns+` WHERE rm.user_id = ? AND rm.until > ? ORDER BY rm.room_id LIMIT ?`,
		scanRoomMute, userID, toMillis(t), MaxPageSize)
}

// The widest ranges an address ban may cover. A ban of a whole provider's
// range shuts out everyone behind it; these bounds keep a slip of the
// keyboard from banning a country (0.0.0.0/0 is a typo away from
// 10.0.0.0/8). Even one address may be shared: a school, an office, a
// mobile carrier's NAT put many people behind it.
const (
	MinIPv4BanBits = 16
	MinIPv6BanBits = 32
)

// AddressBan is a ban of one client address or a CIDR range.
type AddressBan struct {
	ID        int64
	Prefix    netip.Prefix // canonical (masked); one address is /32 or /128
	Until     time.Time
	Reason    string
	By        int64
	ByName    string // filled by reads
	CreatedAt time.Time
}

// BannedAt reports whether the ban is in force at t.
func (b AddressBan) BannedAt(t time.Time) bool { return t.Before(b.Until) }

// ParseBanPrefix reads an address ("192.0.2.7", "2001:db8::1") or a CIDR
// range ("192.0.2.0/24") into its canonical masked prefix, IPv4-mapped
// IPv6 addresses as IPv4. It refuses (ErrInvalid) anything else and ranges
// wider than MinIPv4BanBits or MinIPv6BanBits.
func ParseBanPrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if addr, err := netip.ParseAddr(s); err == nil {
		addr = addr.Unmap().WithZone("")
		p = netip.PrefixFrom(addr, addr.BitLen())
	} else if p, err = netip.ParsePrefix(s); err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: %q is neither an address nor a CIDR range", ErrInvalid, s)
	}
	if p.Addr().Is4In6() {
		bits := p.Bits() - 96
		if bits < 0 {
			return netip.Prefix{}, fmt.Errorf("%w: %q is wider than the IPv4 space", ErrInvalid, s)
		}
		p = netip.PrefixFrom(p.Addr().Unmap(), bits)
	}
	p = p.Masked()
	if p.Addr().Is4() && p.Bits() < MinIPv4BanBits || p.Addr().Is6() && p.Bits() < MinIPv6BanBits {
		return netip.Prefix{}, fmt.Errorf("%w: %s covers too many addresses (at most /%d for IPv4, /%d for IPv6)",
			ErrInvalid, p, MinIPv4BanBits, MinIPv6BanBits)
	}
	return p, nil
}

// prefixRange is the first and last address of p as 16 bytes, IPv4 in
// its mapped form, so byte order is address order.
func prefixRange(p netip.Prefix) (lo, hi [16]byte) {
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	lo = p.Masked().Addr().As16()
	hi = lo
	for i := bits; i < 128; i++ {
		hi[i/8] |= 1 << (7 - i%8)
	}
	return lo, hi
}

func addressTarget(p netip.Prefix) string { return "address:" + p.String() }

// BanAddressAs bans a client address or CIDR range (see ParseBanPrefix)
// until the given time (Forever: for good), with a reason, and writes the
// audit entry with the actor's address in the same transaction. A range
// banned before whose ban has ended is banned again. It refuses, changing
// nothing: a bad or too wide prefix or an end not in the future
// (ErrInvalid), a prefix whose ban is in force (ErrConflict). Banning the
// range the actor is in is the caller's to prevent.
func (s *Store) BanAddressAs(ctx context.Context, a Actor, prefix string, until time.Time, reason string) (AddressBan, error) {
	what := fmt.Sprintf("ban address %q", prefix)
	p, err := ParseBanPrefix(prefix)
	if err != nil {
		return AddressBan{}, fmt.Errorf("%s: %w", what, err)
	}
	at := now()
	if until.IsZero() {
		return AddressBan{}, fmt.Errorf("%s: %w: no end given (UnbanAddressAs lifts a ban)", what, ErrInvalid)
	}
	if err := checkUntil(until, at); err != nil {
		return AddressBan{}, fmt.Errorf("%s: %w", what, err)
	}
	b := AddressBan{Prefix: p, Until: until, Reason: reason, By: a.ID, CreatedAt: at}
	lo, hi := prefixRange(p)
	err = s.writeTx(ctx, what, func(tx *sql.Tx) error {
		var current sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT until FROM address_bans WHERE cidr = ?`, p.String()).Scan(&current)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		if current.Valid && toMillis(at) < current.Int64 {
			return conflict("%s is already banned %s", p, untilWords(fromMillis(current.Int64)))
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO address_bans (cidr, lo, hi, until, reason, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (cidr) DO UPDATE SET until = excluded.until, reason = excluded.reason,
				created_by = excluded.created_by, created_at = excluded.created_at
			RETURNING id`, p.String(), lo[:], hi[:], toMillis(until), reason, a.ID, toMillis(at)).Scan(&b.ID)
		if err != nil {
			return err
		}
		return appendAudit(ctx, tx, a, ActionAddressBan, addressTarget(p), untilDetails(until, reason))
	})
	if err != nil {
		return AddressBan{}, err
	}
	return b, nil
}

// UnbanAddressAs ends an address ban now (the row stays, ended) and writes
// the audit entry with the actor's address in the same transaction. An
// unknown id is ErrNotFound; a ban no longer in force is ErrConflict.
func (s *Store) UnbanAddressAs(ctx context.Context, a Actor, banID int64, reason string) error {
	what := fmt.Sprintf("unban address ban %d", banID)
	at := now()
	return s.writeTx(ctx, what, func(tx *sql.Tx) error {
		var (
			cidr  string
			until int64
		)
		err := tx.QueryRowContext(ctx, `SELECT cidr, until FROM address_bans WHERE id = ?`, banID).Scan(&cidr, &until)
		if err != nil {
			return notFound(err)
		}
		if until <= toMillis(at) {
			return conflict("%s is not banned", cidr)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE address_bans SET until = ? WHERE id = ?`, toMillis(at), banID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, a, ActionAddressUnban, "address:"+cidr, untilDetails(time.Time{}, reason))
	})
}

const addressBanColumns = `b.id, b.cidr, b.until, b.reason, b.created_by, COALESCE(u.name, ''), b.created_at
	FROM address_bans AS b LEFT JOIN users AS u ON u.id = b.created_by`

func scanAddressBan(rows *sql.Rows) (AddressBan, error) {
	var (
		b                AddressBan
		cidr             string
		until, createdAt int64
	)
	if err := rows.Scan(&b.ID, &cidr, &until, &b.Reason, &b.By, &b.ByName, &createdAt); err != nil {
		return b, err
	}
	p, err := netip.ParsePrefix(cidr)
	b.Prefix = p
	b.Until = fromMillis(until)
	b.CreatedAt = fromMillis(createdAt)
	return b, err
}

// AddressBanned returns a ban in force at t that covers addr (the
// narrowest, if several do), ok false if none: what the application asks
// before a sign-in or a connection. It reads the bans in force, which the
// until index keeps to the live ones.
func (s *Store) AddressBanned(ctx context.Context, addr netip.Addr, t time.Time) (b AddressBan, ok bool, err error) {
	if !addr.IsValid() {
		return AddressBan{}, false, fmt.Errorf("address ban of an invalid address: %w", ErrInvalid)
	}
	key := addr.Unmap().WithZone("").As16() // an IPv4 address comes in its mapped form
	bans, err := queryAll(ctx, s, "address banned", `SELECT `+addressBanColumns+`
		WHERE b.until > ? AND b.lo <= ? AND b.hi >= ? ORDER BY b.id LIMIT ?`,
		scanAddressBan, toMillis(t), key[:], key[:], MaxPageSize)
	if err != nil || len(bans) == 0 {
		return AddressBan{}, false, err
	}
	narrowest := bans[0]
	for _, b := range bans[1:] {
		if b.Prefix.Bits() > narrowest.Prefix.Bits() {
			narrowest = b
		}
	}
	return narrowest, true, nil
}

// AddressBans returns up to limit address bans in force at t with ids
// above afterID, by id.
func (s *Store) AddressBans(ctx context.Context, t time.Time, afterID int64, limit int) ([]AddressBan, error) {
	return queryAll(ctx, s, "address bans", `SELECT `+addressBanColumns+`
		WHERE b.until > ? AND b.id > ? ORDER BY b.id LIMIT ?`,
		scanAddressBan, toMillis(t), afterID, clampLimit(limit))
}
