package display

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxURL is the most bytes an avatar link may have, as sent.
const MaxURL = 1024

// AvatarURL checks raw, as sent, as a link to an avatar image; the link is
// stored as it is. It must be at most MaxURL bytes, start with https://,
// and name a DNS host with at least one dot, in ASCII (a non-ASCII host is
// refused, not converted), that is not a local name and, when allow is not
// empty, that allow holds. It must have no port but 443, no user name or
// password, no IP address in any notation (dotted, integer, hexadecimal,
// octal, bracketed IPv6) and, anywhere, no space, quote, angle bracket,
// backslash, control character or character a name may not hold either.
// The empty string is not a link: a caller that allows no avatar checks
// for it first. A refusal is an *Error.
func AvatarURL(raw string, allow Hosts) error {
	if len(raw) > MaxURL {
		return &Error{Err: ErrURLTooLong, Len: len(raw), Max: MaxURL}
	}
	if !utf8.ValidString(raw) {
		return &Error{Err: ErrInvalidUTF8}
	}
	for i, r := range []rune(raw) {
		var err error
		switch {
		case unsafeInURL(r):
			err = ErrUnsafeChar
		case unicode.IsControl(r):
			err = ErrControl
		case defaultIgnorable(r) || blank(r):
			// No emoji sequence belongs in a link: its joiners too.
			err = ErrInvisible
		default:
			continue
		}
		return &Error{Err: err, Pos: i + 1, Rune: r}
	}
	rest, ok := strings.CutPrefix(raw, "https://")
	if !ok {
		return &Error{Err: ErrNotHTTPS}
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if strings.Contains(authority, "@") {
		return &Error{Err: ErrUserinfo}
	}
	if strings.HasPrefix(authority, "[") {
		return &Error{Err: ErrIPLiteral}
	}
	host := authority
	if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		if authority[i+1:] != "443" {
			return &Error{Err: ErrPort}
		}
		host = authority[:i]
	}
	if err := checkHost(host); err != nil {
		return err
	}
	if !allow.allows(strings.ToLower(host)) {
		return &Error{Err: ErrHostNotAllowed}
	}
	// What is left (path, query, fragment) must parse, and parse to the
	// same host: a second opinion on the split above.
	u, err := url.Parse(raw)
	if err != nil || u.Host != authority || u.User != nil {
		return &Error{Err: ErrMalformedURL}
	}
	return nil
}

// unsafeInURL: characters that could end an HTML attribute or a JSON or
// CSS string if a client pasted the link unescaped, or that browsers read
// as "/" (backslash), or white space of any kind.
func unsafeInURL(r rune) bool {
	return strings.ContainsRune("\"'<>`\\", r) || unicode.IsSpace(r)
}

// localSuffixes are special-use names (RFC 6761, RFC 6762, ICANN's
// .internal, .arpa) that resolve, if at all, inside the viewer's network.
var localSuffixes = []string{"localhost", "local", "internal", "arpa"}

// checkHost refuses a host that is not an ASCII DNS name of at least two
// labels (letters, digits, hyphens; no label longer than 63 or starting or
// ending with a hyphen; 253 bytes in all), that is an IP address in any
// notation, or that is a local name.
func checkHost(host string) error {
	for _, r := range host {
		if r >= utf8.RuneSelf {
			return &Error{Err: ErrNonASCIIHost}
		}
	}
	host = strings.ToLower(host)
	labels := strings.Split(host, ".")
	// The WHATWG URL standard (which browsers and WeChat's web views
	// follow) reads a host whose last label, ignoring one trailing dot, is
	// a number as an IPv4 address: 2130706433, 0x7f.1, 0177.0.0.1 and
	// 127.1 are all 127.0.0.1.
	last := labels[len(labels)-1]
	if last == "" && len(labels) > 1 {
		last = labels[len(labels)-2]
	}
	if number(last) {
		return &Error{Err: ErrIPLiteral}
	}
	if len(host) > 253 || len(labels) < 2 {
		return &Error{Err: ErrHostName}
	}
	for _, l := range labels {
		if !ldhLabel(l) {
			return &Error{Err: ErrHostName}
		}
	}
	for _, s := range localSuffixes {
		if host == s || strings.HasSuffix(host, "."+s) {
			return &Error{Err: ErrLocalHost}
		}
	}
	return nil
}

// number reports whether a lowercased label is all decimal digits, or "0x"
// and hexadecimal digits (even none): the forms the WHATWG "ends in a
// number" check treats as an IPv4 part.
func number(l string) bool {
	digits, base := l, "0123456789"
	if h, ok := strings.CutPrefix(l, "0x"); ok {
		digits, base = h, "0123456789abcdef"
	} else if l == "" {
		return false
	}
	for _, c := range digits {
		if !strings.ContainsRune(base, c) {
			return false
		}
	}
	return true
}

// ldhLabel: 1 to 63 lowercase letters, digits and hyphens, not starting or
// ending with a hyphen (RFC 1123).
func ldhLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Hosts is an operator's list of allowed avatar hosts. An entry is a host
// name, matched exactly ("cdn.example.com"), or a host name after a dot
// (".example.com"), matching any host under it but not the name itself
// (img.example.com, a.b.example.com; not example.com). Matching ignores
// case. The zero Hosts allows any host AvatarURL otherwise accepts.
type Hosts struct {
	exact    []string
	suffixes []string // with their leading dot
}

// NewHosts builds the list from entries, ignoring empty ones (so a
// comma-separated setting may be split as it is); an entry that is not a
// host name AvatarURL would accept, with or without its leading dot, is an
// error naming it.
func NewHosts(entries ...string) (Hosts, error) {
	var h Hosts
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		name, sub := strings.CutPrefix(e, ".")
		if err := checkHost(name); err != nil {
			return Hosts{}, fmt.Errorf("display: allowed host %q: %w", e, err)
		}
		if sub {
			h.suffixes = append(h.suffixes, e)
		} else {
			h.exact = append(h.exact, e)
		}
	}
	return h, nil
}

// allows reports whether a lowercased host is allowed.
func (h Hosts) allows(host string) bool {
	if len(h.exact) == 0 && len(h.suffixes) == 0 {
		return true
	}
	for _, e := range h.exact {
		if host == e {
			return true
		}
	}
	for _, s := range h.suffixes {
		if strings.HasSuffix(host, s) {
			return true
		}
	}
	return false
}
