package web

import (
	"errors"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// --- Current user ---

// CurrentUser returns the request's user, Tornado's current_user: what
// Config.CurrentUser returns, called on first use and cached for the
// request, or what SetCurrentUser stored. Nil means nobody is logged in.
func (c *Context) CurrentUser() any {
	if !c.userLoaded {
		c.userLoaded = true
		if c.app.currentUser != nil {
			c.user = c.app.currentUser(c)
		}
	}
	return c.user
}

// SetCurrentUser sets the request's user, for a login handler or a Prepare
// that found the user another way.
func (c *Context) SetCurrentUser(user any) {
	c.userLoaded, c.user = true, user
}

// RequireUser reports whether the request has a current user. If not, it
// has answered, as Tornado's @authenticated: page requests (GET or HEAD
// from a browser) are redirected to Config.LoginURL with ?next=<the
// original URL>, and API calls (other methods, clients asking for JSON,
// API routes) get 401 with {"error": ...}. The handler must then return.
// Routes with RouteSettings.Authenticated call it before the method.
func (c *Context) RequireUser() bool {
	if c.CurrentUser() != nil {
		return true
	}
	method := c.request.Method
	if (method == http.MethodGet || method == http.MethodHead) && !c.wantsJSON() {
		c.Redirect(c.loginRedirect(), http.StatusFound)
		return false
	}
	c.fail(&HTTPError{Status: http.StatusUnauthorized, Message: "authentication required"}, true)
	return false
}

// loginRedirect is the login URL with next= the URL asked for: the path
// and query for a local login URL, the full URL for an absolute one.
func (c *Context) loginRedirect() string {
	next := c.request.Target
	login := c.app.loginURL
	if u, err := url.Parse(login); err == nil && u.Scheme != "" {
		next = c.request.FullURL()
	}
	sep := "?"
	if strings.Contains(login, "?") {
		sep = "&"
	}
	return login + sep + "next=" + url.QueryEscape(next)
}

// --- Cookies ---

// Cookie returns the value of the named request cookie.
func (c *Context) Cookie(name string) (string, bool) { return c.request.Cookie(name) }

// SetCookie adds cookie to the response, replacing one of the same name
// set earlier in this response. An invalid cookie is dropped and logged.
func (c *Context) SetCookie(cookie *http.Cookie) {
	line := cookie.String()
	if line == "" {
		c.app.logger.Warn("web: invalid cookie dropped", "name", cookie.Name)
		return
	}
	h := c.response.Header()
	prefix := cookie.Name + "="
	kept := h["Set-Cookie"][:0:0]
	for _, v := range h["Set-Cookie"] {
		if !strings.HasPrefix(v, prefix) {
			kept = append(kept, v)
		}
	}
	h["Set-Cookie"] = append(kept, line)
}

// ClearCookie deletes the named cookie in the browser (Path "/", or the
// secure-cookie attributes when cookie keys are configured).
func (c *Context) ClearCookie(name string) {
	if c.app.cookies != nil {
		c.SetCookie(c.app.cookies.ClearCookie(name, c.request.TLS()))
		return
	}
	c.SetCookie(&http.Cookie{Name: name, Path: "/", MaxAge: -1})
}

// SetSecureCookie sets a signed, encrypted cookie, Tornado's
// set_secure_cookie: HttpOnly, SameSite=Lax, Secure when the request came
// over TLS, Max-Age Config.CookieMaxAge (see CookieCodec).
func (c *Context) SetSecureCookie(name string, value []byte) error {
	if c.app.cookies == nil {
		return ErrNoCookieKeys
	}
	cookie, err := c.app.cookies.NewCookie(name, value, c.request.TLS())
	if err != nil {
		return err
	}
	c.SetCookie(cookie)
	return nil
}

// GetSecureCookie returns the value of a cookie set by SetSecureCookie,
// Tornado's get_secure_cookie. Errors wrap ErrCookieMissing,
// ErrCookieInvalid (tampered, or its key retired), ErrCookieExpired or
// ErrCookieWrongKey; all of them mean "no valid cookie".
func (c *Context) GetSecureCookie(name string) ([]byte, error) {
	if c.app.cookies == nil {
		return nil, ErrNoCookieKeys
	}
	value, _ := c.request.Cookie(name)
	return c.app.cookies.Decode(name, value)
}

// --- XSRF ---

// XSRFToken returns this request's XSRF token, masked afresh on every
// call, Tornado's xsrf_token; it sets the _xsrf cookie when the request
// has none (or an unreadable one). Put it in forms (XSRFFormHTML) or
// hand it to scripts, which send it back in the X-XSRFToken header.
func (c *Context) XSRFToken() string {
	if c.xsrfToken == nil {
		cookie, _ := c.request.Cookie(XSRFCookieName)
		token, issued, fresh := XSRFFromCookie(cookie, time.Now())
		c.xsrfToken, c.xsrfIssued = &token, issued
		if fresh {
			c.SetCookie(NewXSRFCookie(EncodeXSRF(token, issued), c.request.TLS()))
		}
	}
	return EncodeXSRF(*c.xsrfToken, c.xsrfIssued)
}

// XSRFFormHTML returns a hidden form input carrying XSRFToken, HTML-escaped,
// Tornado's xsrf_form_html. It is trusted HTML: in templ, write
// @templ.Raw(web.FromContext(ctx).XSRFFormHTML()).
func (c *Context) XSRFFormHTML() string {
	return `<input type="hidden" name="` + XSRFFormField + `" value="` + html.EscapeString(c.XSRFToken()) + `">`
}

// CheckXSRF verifies the request's XSRF token, Tornado's
// check_xsrf_cookie: the _xsrf argument (query or body), else the
// X-XSRFToken or X-CSRFToken header, must match the _xsrf cookie. The
// application calls it before Prepare for methods XSRFCheckRequired names
// unless XSRF is disabled, answering 403 on failure.
func (c *Context) CheckXSRF() error {
	submitted := c.GetArgument(XSRFFormField, "")
	if submitted == "" {
		submitted = c.request.Header.Get(XSRFHeader)
	}
	if submitted == "" {
		submitted = c.request.Header.Get(XSRFHeaderAlt)
	}
	cookie, _ := c.request.Cookie(XSRFCookieName)
	return CheckXSRF(cookie, submitted)
}

// xsrfMessage is the 403 message for an XSRF failure: the sentinel's text,
// which is written to be shown.
func xsrfMessage(err error) string {
	for _, sentinel := range []error{ErrXSRFArgumentMissing, ErrXSRFCookieMissing, ErrXSRFMalformed, ErrXSRFMismatch} {
		if errors.Is(err, sentinel) {
			return "XSRF check failed: " + strings.TrimPrefix(sentinel.Error(), "web: ")
		}
	}
	return "XSRF check failed"
}
