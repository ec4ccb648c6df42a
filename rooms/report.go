package rooms

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"chat/accounts"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
)

// MaxReasonChars bounds the reason a reader gives when reporting a message.
const MaxReasonChars = 500

// reportHandler: POST /api/rooms/{room}/messages/{msg}/report flags a
// message for the moderators' queue (the admin dashboard works it).
type reportHandler struct{ e *Engine }

type reportRequest struct {
	Reason string `json:"reason"`
}

func (hd reportHandler) Post(c *web.Context) {
	var req reportRequest
	if err := decodeBody(c, &req); err != nil {
		failRequest(c, err)
		return
	}
	reason := strings.TrimSpace(req.Reason)
	if utf8.RuneCountInString(reason) > MaxReasonChars {
		failRequest(c, refuse(http.StatusBadRequest, "too_long", "A reason is at most %d characters.", MaxReasonChars))
		return
	}
	msgID, err := strconv.ParseInt(c.Param("msg"), 10, 64)
	if err != nil || msgID <= 0 {
		failRequest(c, errMessageNotFound)
		return
	}
	hd.e.withRoom(c, func(u *accounts.User, h *hub, _ int64) {
		// Reports outlive the request: each costs a token of the bucket
		// posting uses, so nobody floods the queue.
		if ok, wait := hd.e.limiter.take(u.ID, hd.e.now()); !ok {
			failRequest(c, refuseAfter(http.StatusTooManyRequests, "rate_limited", wait, "Too many reports at once: wait %d s.", ceilSeconds(wait)))
			return
		}
		st, roomID := hd.e.cfg.Store, h.room.ID
		web.Guard(c, ioloop.RunInExecutor(hd.e.cfg.Reads, func() (store.Report, error) {
			return reportMessage(st, roomID, u.ID, msgID, reason)
		})).OnResult(func(r store.Report, err error) {
			if err != nil {
				failRequest(c, err)
				return
			}
			c.SetStatus(http.StatusCreated)
			c.WriteJSON(map[string]any{"report": map[string]int64{"id": r.ID, "msg": r.MessageID}})
			c.Finish()
		})
	})
}

var errMessageNotFound = refuse(http.StatusNotFound, "not_found", "There is no such message in this room.")

// reportMessage checks that the message is in the room, not deleted and
// not the reporter's own, then records the report (a second report by
// the same reader returns the first). It blocks: run it on an executor.
func reportMessage(st *store.Store, roomID, reporterID, msgID int64, reason string) (store.Report, error) {
	m, err := st.MessageByID(ctxBackground, msgID, store.PublicView)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Report{}, errMessageNotFound
	case err != nil:
		return store.Report{}, err
	case m.RoomID != roomID || m.Deleted():
		return store.Report{}, errMessageNotFound
	case m.AuthorID == reporterID:
		return store.Report{}, refuse(http.StatusForbidden, "forbidden", "You cannot report your own message.")
	}
	return st.ReportMessage(ctxBackground, reporterID, msgID, reason)
}
