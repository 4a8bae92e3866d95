package display_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/shared/display"
)

func TestAvatarURLAcceptsAPublicHTTPSLink(t *testing.T) {
	for _, raw := range []string{
		"https://cdn.example.com/a.png",
		"https://cdn.example.com:443/a.png",
		"https://CDN.Example.com/a.png?size=132#top",
		"https://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfT/132",
		"https://img.example.com",
		"https://xn--fiqs8s.example/a.png",
		"https://a-b.c.example.com/%E6%AD%A5.png",
		"https://cdn.example.com/步.png",
		"https://cdn.example.com/" + strings.Repeat("a", display.MaxURL-len("https://cdn.example.com/")),
	} {
		if err := display.AvatarURL(raw, display.Hosts{}); err != nil {
			t.Errorf("%.60q: %v", raw, err)
		}
	}
}

func TestAvatarURLRefusesEachAttack(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      error
	}{
		{"http", "http://cdn.example.com/a.png", display.ErrNotHTTPS},
		{"a mini program temp file", "wxfile://tmp/a.png", display.ErrNotHTTPS},
		{"upper-case scheme", "HTTPS://cdn.example.com/a.png", display.ErrNotHTTPS},
		{"scheme-relative", "//cdn.example.com/a.png", display.ErrNotHTTPS},
		{"javascript", "javascript:alert(1)", display.ErrNotHTTPS},
		{"loopback", "https://127.0.0.1/x", display.ErrIPLiteral},
		{"cloud metadata", "https://169.254.169.254/latest/meta-data/", display.ErrIPLiteral},
		{"IPv4 with port 443", "https://10.0.0.1:443/a", display.ErrIPLiteral},
		{"IPv6 loopback", "https://[::1]/x", display.ErrIPLiteral},
		{"IPv4-mapped IPv6", "https://[::ffff:127.0.0.1]/x", display.ErrIPLiteral},
		{"integer IPv4", "https://2130706433/x", display.ErrIPLiteral},
		{"hexadecimal IPv4", "https://0x7f000001/x", display.ErrIPLiteral},
		{"mixed hexadecimal IPv4", "https://0x7f.1/x", display.ErrIPLiteral},
		{"octal IPv4", "https://0177.0.0.1/x", display.ErrIPLiteral},
		{"short IPv4", "https://127.1/x", display.ErrIPLiteral},
		{"IPv4 with a trailing dot", "https://127.0.0.1./x", display.ErrIPLiteral},
		{"host ending in a number", "https://cdn.example.123/x", display.ErrIPLiteral},
		{"port 99999", "https://cdn.example.com:99999/a.png", display.ErrPort},
		{"port 8443", "https://cdn.example.com:8443/a.png", display.ErrPort},
		{"empty port", "https://cdn.example.com:/a.png", display.ErrPort},
		{"port 0443", "https://cdn.example.com:0443/a.png", display.ErrPort},
		{"raw space", "https://cdn.example.com/a b.png", display.ErrUnsafeChar},
		{"leading space", " https://cdn.example.com/a.png", display.ErrUnsafeChar},
		{"tab", "https://cdn.example.com/a\tb.png", display.ErrUnsafeChar},
		{"ideographic space", "https://cdn.example.com/a\u3000b.png", display.ErrUnsafeChar},
		{"attribute break-out", `https://cdn.example.com/"><script>alert(1)</script>`, display.ErrUnsafeChar},
		{"single quote", "https://cdn.example.com/a'onerror='x", display.ErrUnsafeChar},
		{"angle bracket", "https://cdn.example.com/<svg>", display.ErrUnsafeChar},
		{"backtick", "https://cdn.example.com/`x`", display.ErrUnsafeChar},
		{"backslash before userinfo", `https://cdn.example.com\@evil.example/`, display.ErrUnsafeChar},
		{"user and password", "https://user:pass@cdn.example.com/a.png", display.ErrUserinfo},
		{"host as userinfo", "https://cdn.example.com@evil.example/a.png", display.ErrUserinfo},
		{"empty userinfo", "https://@cdn.example.com/a.png", display.ErrUserinfo},
		{"right-to-left override in the host", "https://cdn.exa\u202emoc.elpmax/a.png", display.ErrInvisible},
		{"zero width space in the path", "https://cdn.example.com/alice\u200b.png", display.ErrInvisible},
		{"ZWJ in the path", "https://cdn.example.com/a\u200db", display.ErrInvisible},
		{"braille blank", "https://cdn.example.com/\u2800", display.ErrInvisible},
		{"NUL", "https://cdn.example.com/a\x00", display.ErrControl},
		{"DEL", "https://cdn.example.com/a\x7f", display.ErrControl},
		{"Chinese host", "https://例子.测试/a.png", display.ErrNonASCIIHost},
		{"Cyrillic a in the host", "https://cdn.ex\u0430mple.com/a.png", display.ErrNonASCIIHost},
		{"full-width dot in the host", "https://cdn\uff0eexample.com/a.png", display.ErrNonASCIIHost},
		{"single label", "https://intranet/a.png", display.ErrHostName},
		{"localhost", "https://localhost/a.png", display.ErrHostName},
		{"no host", "https:///a.png", display.ErrHostName},
		{"empty label", "https://cdn..example.com/a.png", display.ErrHostName},
		{"trailing dot", "https://cdn.example.com./a.png", display.ErrHostName},
		{"leading hyphen", "https://-cdn.example.com/a.png", display.ErrHostName},
		{"underscore", "https://cdn_1.example.com/a.png", display.ErrHostName},
		{"percent-encoded host", "https://%63dn.example.com/a.png", display.ErrHostName},
		{"label of 64", "https://" + strings.Repeat("a", 64) + ".example.com/", display.ErrHostName},
		{"host over 253", "https://" + strings.Repeat("a.", 127) + "com/", display.ErrHostName},
		{"under localhost", "https://app.localhost/a.png", display.ErrLocalHost},
		{"mDNS", "https://printer.local/a.png", display.ErrLocalHost},
		{"internal", "https://metadata.google.internal/a.png", display.ErrLocalHost},
		{"reverse DNS", "https://1.0.0.127.in-addr.arpa/a.png", display.ErrLocalHost},
		{"bad escape in the path", "https://cdn.example.com/%zz", display.ErrMalformedURL},
		{"1025 bytes", "https://cdn.example.com/" + strings.Repeat("a", display.MaxURL+1-len("https://cdn.example.com/")), display.ErrURLTooLong},
		{"invalid UTF-8", "https://cdn.example.com/\xff", display.ErrInvalidUTF8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := display.AvatarURL(tc.raw, display.Hosts{})
			var e *display.Error
			if !errors.As(err, &e) || !errors.Is(err, tc.want) {
				t.Fatalf("%+.80q: %v, want %v", tc.raw, err, tc.want)
			}
			// The message describes; it never repeats the link.
			if strings.Contains(err.Error(), "example") || strings.Contains(err.Error(), "<") {
				t.Errorf("the error %q quotes the link", err)
			}
		})
	}
}

func TestAvatarURLErrorsSayWhereAndHowMuch(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"https://cdn.exa\u202emoc.elpmax/", "invisible, format or direction-changing character U+202E at position 16"},
		{"https://cdn.example.com/a b", "space, quote, angle bracket or backslash U+0020 at position 26"},
		{"https://cdn.example.com/" + strings.Repeat("a", 1001), "too many bytes: 1025, at most 1024"},
		{"https://127.0.0.1/x", "names an IP address instead of a host name"},
	} {
		if err := display.AvatarURL(tc.raw, display.Hosts{}); err == nil || err.Error() != tc.want {
			t.Errorf("%.40q: %v, want %q", tc.raw, err, tc.want)
		}
	}
}

func TestAllowedHostsMatchExactlyOrBelowALeadingDot(t *testing.T) {
	hosts, err := display.NewHosts("thirdwx.qlogo.cn", " .Example.com ", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		raw     string
		allowed bool
	}{
		{"https://thirdwx.qlogo.cn/a", true},
		{"https://THIRDWX.qlogo.cn/a", true},
		{"https://img.example.com/a", true},
		{"https://a.b.example.com/a", true},
		{"https://example.com/a", false},
		{"https://evilexample.com/a", false},
		{"https://qlogo.cn/a", false},
		{"https://x.thirdwx.qlogo.cn/a", false},
		{"https://thirdwx.qlogo.cn.evil.example/a", false},
	} {
		err := display.AvatarURL(tc.raw, hosts)
		if tc.allowed && err != nil || !tc.allowed && !errors.Is(err, display.ErrHostNotAllowed) {
			t.Errorf("%s: %v, allowed %v", tc.raw, err, tc.allowed)
		}
	}
	// The other rules still apply to an allowed host.
	if err := display.AvatarURL("https://img.example.com:8443/a", hosts); !errors.Is(err, display.ErrPort) {
		t.Errorf("allowed host, bad port: %v", err)
	}
}

func TestNewHostsRefusesWhatCouldNeverMatch(t *testing.T) {
	for _, tc := range []struct {
		entry string
		want  error
	}{
		{"127.0.0.1", display.ErrIPLiteral},
		{"*.example.com", display.ErrHostName},
		{"https://cdn.example.com", display.ErrHostName},
		{".com", display.ErrHostName},
		{"例子.测试", display.ErrNonASCIIHost},
		{"printer.local", display.ErrLocalHost},
	} {
		if _, err := display.NewHosts("cdn.example.com", tc.entry); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.entry) {
			t.Errorf("%q: %v, want %v naming the entry", tc.entry, err, tc.want)
		}
	}
	// No entries: any host.
	hosts, err := display.NewHosts("", " ")
	if err != nil || display.AvatarURL("https://any.example.org/a", hosts) != nil {
		t.Errorf("an empty list: %v", err)
	}
}
