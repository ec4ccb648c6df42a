package accounts

import (
	"errors"
	"net/http"
	"strings"

	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
	"chat/views"
)

// nameRule is the words for a name that breaks ValidNickname.
const nameRule = `A name is 1 to 32 letters, digits, "_", "-" or ".".`

// signupHandler serves /signup: GET shows the form, POST creates a
// registered user (role user) and signs them in. The rules are checked
// on the loop; the password is hashed on Config.Passwords and the user
// written on Config.Executor, in a coroutine.
type signupHandler struct{ s *Sessions }

func (h *signupHandler) Get(c *web.Context) {
	h.render(c, "", nextURL(c), nil, nil)
}

func (h *signupHandler) Post(c *web.Context) {
	s := h.s
	name := strings.TrimSpace(c.GetArgument("name", ""))
	password := c.GetArgument("password", "")
	next := nextURL(c)
	fields := map[string]string{}
	if !ValidNickname(name) {
		fields["name"] = nameRule
	}
	if problem := PasswordProblem(name, password); problem != "" {
		fields["password"] = problem
	}
	if r := s.addressRefusal(c); r != nil {
		h.render(c, name, next, r, nil)
		return
	}
	if len(fields) > 0 {
		r := &refusal{status: http.StatusBadRequest, code: "invalid", field: "name", message: fields["name"]}
		if r.message == "" {
			r.field, r.message = "password", fields["password"]
		}
		h.render(c, name, next, r, fields)
		return
	}
	if s.cfg.Passwords == nil {
		c.Fail(errNoPasswordExecutor)
		return
	}
	addr := clientAddr(c)
	if wait := s.newUsers.take(addr, s.now()); wait > 0 {
		h.render(c, name, next, throttled("new accounts from your address", wait, ""), nil)
		return
	}
	st := s.cfg.Store
	c.Go(func(co *ioloop.Co) error {
		hash, err := ioloop.Await(co, s.hashPassword(password))
		var su store.User
		if err == nil {
			su, err = ioloop.Await(co, ioloop.RunInExecutor(s.cfg.Executor, func() (store.User, error) {
				return st.CreateUser(ctxBackground, name, hash, store.RoleUser)
			}))
		}
		if err != nil {
			s.newUsers.refund(addr)
			r := refusalFor(err, "")
			if errors.Is(err, store.ErrNameTaken) {
				r = &refusal{status: http.StatusConflict, code: "name_taken", field: "name", message: "That name is taken."}
			}
			if r == nil {
				return err
			}
			var fields map[string]string
			if r.field != "" {
				fields = map[string]string{r.field: r.message}
			}
			h.render(c, name, next, r, fields)
			return nil
		}
		u := s.remember(su)
		if err := s.SignIn(c, u); err != nil {
			return err
		}
		answerUser(c, u, http.StatusCreated, next)
		return nil
	})
}

// render answers with the form and each field's words beside it (a
// refusal of the whole form, such as a throttle, beside the name), or
// with the protocol's error object for a client asking for JSON.
func (h *signupHandler) render(c *web.Context, name, next string, r *refusal, fields map[string]string) {
	status := http.StatusOK
	d := views.SignupData{Page: h.s.page(c, "Sign up", "signup"), Name: name, Next: next,
		XSRFForm: c.XSRFFormHTML(), SigninURL: withNext("/signin", next)}
	if r != nil {
		if wantsJSON(c) {
			writeRefusalJSON(c, r, fields)
			return
		}
		setRetryAfter(c, r)
		status = r.status
		d.NameError, d.PasswordError = fields["name"], fields["password"]
		if fields == nil {
			d.NameError = r.message
		}
	}
	c.SetStatus(status)
	c.Render(views.Signup(d))
}
