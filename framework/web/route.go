package web

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Errors returned by NewRouter and Router.Reverse. Callers branch on them
// with errors.Is; the returned errors wrap them with the route and parameter
// at fault.
var (
	// ErrBadPattern reports a route pattern NewRouter cannot compile.
	ErrBadPattern = errors.New("web: bad route pattern")
	// ErrDuplicateRoute reports two routes sharing one name.
	ErrDuplicateRoute = errors.New("web: duplicate route name")
	// ErrUnknownRoute reports a Reverse call naming no route.
	ErrUnknownRoute = errors.New("web: unknown route")
	// ErrMissingParam reports a Reverse call given fewer values than the
	// route has parameters.
	ErrMissingParam = errors.New("web: missing route parameter")
	// ErrExtraParam reports a Reverse call given more values than the route
	// has parameters.
	ErrExtraParam = errors.New("web: too many route parameters")
	// ErrInvalidParam reports a Reverse value that no matching path could
	// carry: an empty named parameter, or a "." or ".." segment, which
	// browsers and proxies collapse before the request reaches us.
	ErrInvalidParam = errors.New("web: invalid route parameter value")
)

// Route is one entry of a route table: Tornado's URLSpec without the handler
// class, which the handler layer carries in Settings.
//
// Routes handed to NewRouter are copied; the *Route values a Router returns
// from Match are shared by every caller and must be treated as read-only.
type Route struct {
	// Name identifies the route for Reverse. Empty means the route cannot
	// be reversed; non-empty names must be unique within a Router.
	Name string
	// Pattern is the path the route matches: "/"-separated segments, each a
	// literal ("rooms"), a named parameter filling one whole non-empty
	// segment ("{name}"), or, as the last segment only, a catch-all that
	// takes the rest of the path, slashes included, possibly empty
	// ("{path...}"). Parameter names are Go identifiers. An empty literal
	// segment is allowed only last, as in "/rooms/" (a trailing slash).
	Pattern string
	// Settings is whatever the handler layer attaches to the route (its
	// handler factory, per-route options); the router never looks at it.
	Settings any

	segments  []routeSegment
	numParams int
}

// routeSegmentKind distinguishes the three segment forms of a pattern.
type routeSegmentKind uint8

const (
	literalSegment routeSegmentKind = iota
	paramSegment
	catchAllSegment
)

// routeSegment is one compiled pattern segment. For a literal, text is the
// unescaped text to compare with and escaped its form in a built URL; for a
// parameter, text is the parameter's name.
type routeSegment struct {
	kind    routeSegmentKind
	text    string
	escaped string
}

// Param is one path parameter of a match, already percent-decoded.
type Param struct {
	Name  string
	Value string
}

// Params are the parameters of a match, in the order they appear in the
// route's pattern. A Params is a plain slice: a route has a handful of
// parameters, so a linear scan beats a map and costs no allocation.
type Params []Param

// Get returns the value of the named parameter, or "" if there is none.
func (ps Params) Get(name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Values returns the parameter values in pattern order: the arguments
// Reverse takes to rebuild the path.
func (ps Params) Values() []string {
	values := make([]string, len(ps))
	for i, p := range ps {
		values[i] = p.Value
	}
	return values
}

// Router is a compiled route table, Tornado's Application handler list: it
// maps a request path to the first route whose pattern matches, and builds a
// path back from a route name and parameter values.
//
// Paths are matched in escaped form, as they arrive on the request line: the
// path is split on its literal slashes first and only then is each segment
// percent-decoded. So "/rooms/a%2Fb" matches "/rooms/{name}" with name "a/b"
// and can never be mistaken for two segments. A catch-all's value is a
// slash-separated path, in which an encoded slash would have no faithful
// representation, so a path whose catch-all part contains %2F does not
// match. Neither does a path with a malformed escape or a segment that
// decodes to "." or ".." where a parameter would take it, so no handler ever
// sees a dot segment. Methods are not the router's concern.
//
// A Router is immutable after NewRouter and safe for concurrent use.
type Router struct {
	routes    []Route
	byName    map[string]*Route
	maxParams int
}

// NewRouter compiles routes into a Router. Matching tries them in the given
// order and the first match wins, as in Tornado, so list specific patterns
// before general ones.
func NewRouter(routes ...Route) (*Router, error) {
	r := &Router{
		routes: make([]Route, len(routes)),
		byName: make(map[string]*Route, len(routes)),
	}
	copy(r.routes, routes)
	for i := range r.routes {
		route := &r.routes[i]
		if err := route.compile(); err != nil {
			return nil, err
		}
		if route.Name != "" {
			if _, dup := r.byName[route.Name]; dup {
				return nil, fmt.Errorf("route %q (%s): %w", route.Name, route.Pattern, ErrDuplicateRoute)
			}
			r.byName[route.Name] = route
		}
		r.maxParams = max(r.maxParams, route.numParams)
	}
	return r, nil
}

// compile parses the route's pattern into segments.
func (route *Route) compile() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("route %q: pattern %q: %s: %w", route.Name, route.Pattern, fmt.Sprintf(format, args...), ErrBadPattern)
	}
	rest, ok := strings.CutPrefix(route.Pattern, "/")
	if !ok {
		return fail("must start with /")
	}
	parts := strings.Split(rest, "/")
	seen := make(map[string]bool)
	for i, part := range parts {
		last := i == len(parts)-1
		name, isParam := strings.CutPrefix(part, "{")
		if isParam {
			name, ok = strings.CutSuffix(name, "}")
			if !ok {
				return fail("segment %q: a parameter must fill its whole segment", part)
			}
			kind := paramSegment
			if base, isCatchAll := strings.CutSuffix(name, "..."); isCatchAll {
				if !last {
					return fail("catch-all {%s} must be the last segment", name)
				}
				name, kind = base, catchAllSegment
			}
			if !isRouteParamName(name) {
				return fail("parameter name %q is not an identifier", name)
			}
			if seen[name] {
				return fail("parameter %q appears twice", name)
			}
			seen[name] = true
			route.segments = append(route.segments, routeSegment{kind: kind, text: name})
			route.numParams++
			continue
		}
		switch {
		case strings.ContainsAny(part, "{}"):
			return fail("segment %q: a parameter must fill its whole segment", part)
		case strings.Contains(part, "%"):
			// Literals are written unescaped; "%" would leave it unclear
			// whether "%41" means itself or "A".
			return fail("segment %q: write literals unescaped, without %%", part)
		case part == "" && !last:
			return fail("empty segment")
		case part == "." || part == "..":
			return fail("dot segment %q", part)
		}
		route.segments = append(route.segments, routeSegment{kind: literalSegment, text: part, escaped: url.PathEscape(part)})
	}
	return nil
}

func isRouteParamName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Routes returns the router's routes in matching order. The slice is shared:
// callers must not modify it.
func (r *Router) Routes() []Route { return r.routes }

// Match finds the first route matching escapedPath, the path of the request
// target as sent, still percent-encoded and without the query (what
// url.URL.EscapedPath returns). It returns the route and its decoded
// parameters, or ok == false if no route matches.
//
// A successful match allocates at most the Params slice, plus one string per
// parameter that actually contains a percent escape.
func (r *Router) Match(escapedPath string) (route *Route, params Params, ok bool) {
	if !strings.HasPrefix(escapedPath, "/") {
		return nil, nil, false
	}
	for i := range r.routes {
		route := &r.routes[i]
		// One buffer, allocated at the first parameter found, serves every
		// attempt: a route that fails after collecting some parameters
		// leaves it to the next.
		var matched bool
		if params, matched = route.match(escapedPath, params[:0], r.maxParams); matched {
			if len(params) == 0 {
				params = nil
			}
			return route, params, true
		}
	}
	return nil, nil, false
}

// match reports whether the route matches escapedPath, which starts with a
// slash, appending the parameters it finds to params. A nil params is
// allocated with capacity capHint on first use.
func (route *Route) match(escapedPath string, params Params, capHint int) (Params, bool) {
	add := func(p Param) {
		if params == nil {
			params = make(Params, 0, capHint)
		}
		params = append(params, p)
	}
	rest := escapedPath[1:]
	// more is whether a segment, possibly empty, remains in rest: "/a/"
	// holds two segments, "a" and "", while "/a" holds only "a".
	more := true
	for _, seg := range route.segments {
		if !more {
			return params, false
		}
		if seg.kind == catchAllSegment {
			value, ok := decodeCatchAll(rest)
			if !ok {
				return params, false
			}
			add(Param{Name: seg.text, Value: value})
			more = false
			break
		}
		var raw string
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			raw, rest = rest[:i], rest[i+1:]
		} else {
			raw, rest, more = rest, "", false
		}
		value, ok := decodeSegment(raw)
		if !ok {
			return params, false
		}
		switch seg.kind {
		case literalSegment:
			if value != seg.text {
				return params, false
			}
		case paramSegment:
			if value == "" || isDotSegment(value) {
				return params, false
			}
			add(Param{Name: seg.text, Value: value})
		}
	}
	return params, !more
}

// decodeSegment percent-decodes one path segment, allocating only when it
// holds an escape.
func decodeSegment(raw string) (string, bool) {
	if !strings.Contains(raw, "%") {
		return raw, true
	}
	value, err := url.PathUnescape(raw)
	return value, err == nil
}

// decodeCatchAll decodes the remainder of a path segment by segment,
// refusing encoded slashes and dot segments (see Router).
func decodeCatchAll(raw string) (string, bool) {
	if !strings.Contains(raw, "%") {
		for seg := range strings.SplitSeq(raw, "/") {
			if isDotSegment(seg) {
				return "", false
			}
		}
		return raw, true
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i, seg := range strings.Split(raw, "/") {
		value, err := url.PathUnescape(seg)
		if err != nil || strings.Contains(value, "/") || isDotSegment(value) {
			return "", false
		}
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(value)
	}
	return b.String(), true
}

func isDotSegment(s string) bool { return s == "." || s == ".." }

// Reverse builds the escaped path of the named route, Tornado's reverse_url:
// values fill the route's parameters in pattern order. A named parameter's
// value is escaped as one segment, so a "/" in it becomes %2F; a catch-all
// value keeps its slashes and each piece between them is escaped. Match on
// the result yields the same values back.
func (r *Router) Reverse(name string, values ...string) (string, error) {
	route, ok := r.byName[name]
	if !ok {
		return "", fmt.Errorf("reverse %q: %w", name, ErrUnknownRoute)
	}
	if len(values) < route.numParams {
		missing := route.paramName(len(values))
		return "", fmt.Errorf("reverse %q: parameter %q: %w", name, missing, ErrMissingParam)
	}
	if len(values) > route.numParams {
		return "", fmt.Errorf("reverse %q: got %d values for %d parameters: %w", name, len(values), route.numParams, ErrExtraParam)
	}
	var b strings.Builder
	b.Grow(len(route.Pattern) + 16)
	next := 0
	for _, seg := range route.segments {
		b.WriteByte('/')
		switch seg.kind {
		case literalSegment:
			b.WriteString(seg.escaped)
		case paramSegment:
			value := values[next]
			next++
			if value == "" || isDotSegment(value) {
				return "", fmt.Errorf("reverse %q: parameter %q = %q: %w", name, seg.text, value, ErrInvalidParam)
			}
			b.WriteString(url.PathEscape(value))
		case catchAllSegment:
			value := values[next]
			next++
			for i, piece := range strings.Split(value, "/") {
				if isDotSegment(piece) {
					return "", fmt.Errorf("reverse %q: parameter %q = %q: %w", name, seg.text, value, ErrInvalidParam)
				}
				if i > 0 {
					b.WriteByte('/')
				}
				b.WriteString(url.PathEscape(piece))
			}
		}
	}
	return b.String(), nil
}

// paramName returns the name of the route's i'th parameter.
func (route *Route) paramName(i int) string {
	for _, seg := range route.segments {
		if seg.kind != literalSegment {
			if i == 0 {
				return seg.text
			}
			i--
		}
	}
	return ""
}
