package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chat/accounts"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
	"chat/views"
)

// The address bans page, /admin/bans: the bans in force (the store's
// AddressBans, all of them up to rooms.MaxAddressBans, the bound of what
// the engine enforces), each with an unban button, and a form to ban an
// address or a CIDR range typed by hand. Its actions,
//
//	POST /admin/bans/ban            prefix, duration, reason
//	POST /admin/bans/{id}/unban     reason
//
// go through actionHandler like every other action (XSRF, staff only,
// audit entry in the store's transaction) and end with
// Engine.AddressBansChanged, which closes the open connections the new ban
// covers. The reader's own address is refused as a target: it would shut
// the dashboard out.

// maxBansShown bounds the page; the engine enforces no more either.
const maxBansShown = 10000

func (a *Admin) bansPage(co *ioloop.Co, c *web.Context, v view) error {
	now := time.Now()
	bans, err := read(a, co, func(st *store.Store) ([]store.AddressBan, error) {
		var all []store.AddressBan
		after := int64(0)
		for len(all) < maxBansShown {
			page, err := st.AddressBans(ctxBackground, now, after, store.MaxPageSize)
			if err != nil {
				return nil, err
			}
			all = append(all, page...)
			if len(page) < store.MaxPageSize {
				break
			}
			after = page[len(page)-1].ID
		}
		return all, nil
	})
	if err != nil {
		return err
	}
	d := views.AdminBansData{AdminCommon: a.common(c, v, "Address bans"), Prefix: v.query.Get("prefix")}
	for _, b := range bans {
		d.Rows = append(d.Rows, views.AdminBanRow{ID: b.ID, Prefix: b.Prefix.String(), Until: b.Until, Reason: b.Reason, By: b.ByName, At: b.CreatedAt})
	}
	return answer(c, v, views.AdminBans(d), d.Rows)
}

func (a *Admin) banAction(co *ioloop.Co, c *web.Context, u *accounts.User, action string) (outcome, error) {
	reason, err := reasonArg(c)
	if err != nil {
		return outcome{}, err
	}
	who := actor(c, u)
	switch action {
	case "ban":
		if c.Param("id") != "" {
			return outcome{}, refusal(http.StatusNotFound, "There is no such action on an address ban.")
		}
		text := strings.TrimSpace(c.GetArgument("prefix", ""))
		p, err := store.ParseBanPrefix(text)
		if err != nil {
			return outcome{}, refusal(http.StatusBadRequest, sentence(plainError(err)))
		}
		if own, err := store.ParseBanPrefix(who.Address); err == nil && p.Overlaps(own) {
			return outcome{}, refusal(http.StatusBadRequest, fmt.Sprintf("%s covers your own address; it would shut you out.", p))
		}
		until, err := untilArg(c, time.Now())
		if err != nil {
			return outcome{}, err
		}
		b, err := write(a, co, func(st *store.Store) (store.AddressBan, error) {
			return st.BanAddressAs(ctxBackground, who, p.String(), until, reason)
		})
		if err != nil {
			return outcome{}, storeRefusal(err, "")
		}
		out := outcome{"ban-address", untilMessage("Banned", b.Prefix.String(), until)}
		a.addressBansChanged(co, &out)
		return out, nil
	case "unban":
		id, err := pathID(c, "id", "address ban")
		if err != nil {
			return outcome{}, err
		}
		_, err = write(a, co, func(st *store.Store) (struct{}, error) {
			return struct{}{}, st.UnbanAddressAs(ctxBackground, who, id, reason)
		})
		if err != nil {
			return outcome{}, storeRefusal(err, "There is no address ban "+strconv.FormatInt(id, 10)+".")
		}
		out := outcome{"unban-address", "The address ban is lifted."}
		a.addressBansChanged(co, &out)
		return out, nil
	}
	return outcome{}, refusal(http.StatusNotFound, "There is no such action on an address ban.")
}

// addressBansChanged makes a stored change to the address bans live.
func (a *Admin) addressBansChanged(co *ioloop.Co, out *outcome) {
	if _, err := ioloop.Await(co, a.cfg.Engine.AddressBansChanged()); err != nil {
		out.message += " (Stored, but open connections could not be told: " + err.Error() + ")"
	}
}
