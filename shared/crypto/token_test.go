package crypto

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	keyA = []byte("key-A-0123456789abcdef0123456789abcdef")
	keyB = []byte("key-B-0123456789abcdef0123456789abcdef")
	keyC = []byte("key-C-0123456789abcdef0123456789abcdef")
)

func mustSigner(t testing.TB, keys ...[]byte) *Signer {
	t.Helper()
	s, err := NewSigner(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSignVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	exp := now.Add(time.Hour)
	current := mustSigner(t, keyA)
	rotated := mustSigner(t, keyB, keyA) // B is new, A still verifies
	stranger := mustSigner(t, keyC)
	tok := current.Sign(Claims{OpenID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE", Account: "acct-1", ExpiresAt: exp})

	forge := func(payload string) string {
		enc := base64.RawURLEncoding.EncodeToString([]byte(payload))
		return enc + "." + base64.RawURLEncoding.EncodeToString(mac(keyA, enc))
	}
	enc, sig, _ := strings.Cut(tok, ".")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}

	tests := []struct {
		name   string
		signer *Signer
		token  string
		now    time.Time
		want   string
		err    error
	}{
		{"fresh token", current, tok, now, "oGZUI0egBJY1zhBYw2KhdUfwVJJE", nil},
		{"previous key after rotation", rotated, tok, now, "oGZUI0egBJY1zhBYw2KhdUfwVJJE", nil},
		{"new key signs after rotation", current, rotated.Sign(Claims{OpenID: "u", Account: "acct-1", ExpiresAt: exp}), now, "", ErrTokenInvalid},
		{"unknown key", stranger, tok, now, "", ErrTokenInvalid},
		{"one second before expiry", current, tok, exp.Add(-time.Second), "oGZUI0egBJY1zhBYw2KhdUfwVJJE", nil},
		{"at expiry", current, tok, exp, "", ErrTokenExpired},
		{"after expiry", current, tok, exp.Add(time.Hour), "", ErrTokenExpired},
		{"tampered payload", current, flip(enc, 3) + "." + sig, now, "", ErrTokenInvalid},
		{"tampered mac", current, enc + "." + flip(sig, 5), now, "", ErrTokenInvalid},
		{"empty", current, "", now, "", ErrTokenInvalid},
		{"no dot", current, enc + sig, now, "", ErrTokenInvalid},
		{"two dots", current, tok + ".x", now, "", ErrTokenInvalid},
		{"padded base64", current, enc + "." + sig + "=", now, "", ErrTokenInvalid},
		{"std base64 alphabet", current, strings.NewReplacer("-", "+", "_", "/").Replace(tok), now, "", ErrTokenInvalid},
		{"mac truncated", current, enc + "." + sig[:20], now, "", ErrTokenInvalid},
		{"bearer prefix left on", current, "Bearer " + tok, now, "", ErrTokenInvalid},
		{"overlong", current, strings.Repeat("A", 2000) + "." + sig, now, "", ErrTokenInvalid},
		{"a version 1 token (no account)", current, forge("1|1700003600|u"), now, "", ErrTokenInvalid},
		{"signed but unknown version", current, forge("4|1700003600||acct-1|u"), now, "", ErrTokenInvalid},
		{"a version 2 token (no stack), until it expires", current, forge("2|1700003600|acct-1|u"), now, "u", nil},
		{"a version 3 token of this stack", current, forge("3|1700003600||acct-1|u"), now, "u", nil},
		{"a version 3 token of another stack", current, forge("3|1700003600|werun-dev|acct-1|u"), now, "", ErrTokenInvalid},
		{"a version 3 token without its stack field", current, forge("3|1700003600|acct-1|u"), now, "", ErrTokenInvalid},
		{"signed but no openid", current, forge("2|1700003600|acct-1|"), now, "", ErrTokenInvalid},
		{"signed but no account", current, forge("2|1700003600||u"), now, "", ErrTokenInvalid},
		{"signed but account with a bad character", current, forge("2|1700003600|a.b|u"), now, "", ErrTokenInvalid},
		{"signed but expiry not canonical", current, forge("2|+1700003600|acct-1|u"), now, "", ErrTokenInvalid},
		{"signed but expiry with leading zero", current, forge("2|01700003600|acct-1|u"), now, "", ErrTokenInvalid},
		{"signed but too few fields", current, forge("2|1700003600|u"), now, "", ErrTokenInvalid},
		{"account over the limit", current, current.Sign(Claims{OpenID: "u", Account: strings.Repeat("a", MaxAccountLen+1), ExpiresAt: exp}), now, "", ErrTokenInvalid},
		{"longest openid", current, current.Sign(Claims{OpenID: strings.Repeat("o", MaxOpenIDLen), Account: "acct-1", ExpiresAt: exp}), now, strings.Repeat("o", MaxOpenIDLen), nil},
		{"openid over the limit", current, current.Sign(Claims{OpenID: strings.Repeat("o", MaxOpenIDLen+1), Account: "acct-1", ExpiresAt: exp}), now, "", ErrTokenInvalid},
		{"signed with bar in openid keeps it whole", current, forge("2|1700003600|acct-1|a|b"), now, "a|b", nil},
		{"expiry a full lifetime ahead", current, current.Sign(Claims{OpenID: "u", Account: "acct-1", ExpiresAt: now.Add(TokenLifetime)}), now, "u", nil},
		{"expiry within the clock skew past a lifetime", current, current.Sign(Claims{OpenID: "u", Account: "acct-1", ExpiresAt: now.Add(TokenLifetime + maxSkew)}), now, "u", nil},
		{"expiry further than a lifetime ahead", current, current.Sign(Claims{OpenID: "u", Account: "acct-1", ExpiresAt: now.Add(TokenLifetime + maxSkew + time.Second)}), now, "", ErrTokenInvalid},
		{"expiry ten years ahead", current, current.Sign(Claims{OpenID: "u", Account: "acct-1", ExpiresAt: now.AddDate(10, 0, 0)}), now, "", ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.signer.Verify(tt.token, tt.now)
			if !errors.Is(err, tt.err) || got.OpenID != tt.want || tt.want != "" && got.Account != "acct-1" {
				t.Fatalf("Verify = %+v, %v; want %q, %v", got, err, tt.want, tt.err)
			}
			if err != nil && (strings.Contains(err.Error(), tt.token) && tt.token != "" || strings.Contains(err.Error(), string(keyA))) {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestATokenIsRefusedByAnotherStackSharingItsKey(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	dev, err := NewStackSigner("werun-dev", keyA)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := NewStackSigner("werun-prod", keyA)
	if err != nil {
		t.Fatal(err)
	}
	c := Claims{OpenID: "u", Account: "acct-1", ExpiresAt: now.Add(time.Hour)}
	tests := []struct {
		name     string
		signer   *Signer
		verifier *Signer
		err      error
	}{
		{"same stack", prod, prod, nil},
		{"dev's token on prod", dev, prod, ErrTokenInvalid},
		{"prod's token on dev", prod, dev, ErrTokenInvalid},
		{"a stack's token where no stack is named", prod, mustSigner(t, keyA), ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.verifier.Verify(tt.signer.Sign(c), now); !errors.Is(err, tt.err) {
				t.Errorf("Verify: %v, want %v", err, tt.err)
			}
		})
	}
	for _, bad := range []string{"werun_dev", "werun dev", strings.Repeat("s", MaxStackLen+1)} {
		if _, err := NewStackSigner(bad, keyA); !errors.Is(err, ErrBadStack) {
			t.Errorf("NewStackSigner(%q): %v, want ErrBadStack", bad, err)
		}
	}
}

// The two phases of a rotation, in a signer that was running before it.
func TestSetKeysAcceptsTheNewKeyBeforeItSigns(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := Claims{OpenID: "u", Account: "acct-1", ExpiresAt: now.Add(time.Hour)}
	warm := mustSigner(t, keyA)
	newer := mustSigner(t, keyB, keyA) // a container started after phase 2
	if _, err := warm.Verify(newer.Sign(c), now); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("before phase 1, a new-key token: %v, want ErrTokenInvalid", err)
	}
	if err := warm.SetKeys(keyA, keyB); err != nil { // phase 1: B accepted
		t.Fatal(err)
	}
	if _, err := warm.Verify(newer.Sign(c), now); err != nil {
		t.Errorf("after phase 1, a new-key token: %v", err)
	}
	if _, err := mustSigner(t, keyB).Verify(warm.Sign(c), now); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("in phase 1 the old key still signs; a B-only signer: %v", err)
	}
	if err := warm.SetKeys([]byte("short")); !errors.Is(err, ErrWeakKey) {
		t.Errorf("SetKeys(short): %v, want ErrWeakKey", err)
	}
	if _, err := warm.Verify(newer.Sign(c), now); err != nil {
		t.Errorf("a refused SetKeys changed the keys: %v", err)
	}
}

func TestNewSigner(t *testing.T) {
	tests := []struct {
		name string
		keys [][]byte
		want error
	}{
		{"one key", [][]byte{keyA}, nil},
		{"two keys", [][]byte{keyA, keyB}, nil},
		{"none", nil, ErrNoSigningKey},
		{"short current", [][]byte{keyA[:31]}, ErrWeakKey},
		{"short previous", [][]byte{keyA, []byte("short")}, ErrWeakKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSigner(tt.keys...); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSignerCopiesKeys(t *testing.T) {
	k := append([]byte(nil), keyA...)
	s := mustSigner(t, k)
	tok := s.Sign(Claims{OpenID: "u", Account: "acct-1", ExpiresAt: time.Unix(1e9+3600, 0)})
	k[0] ^= 0xff
	if _, err := s.Verify(tok, time.Unix(1e9, 0)); err != nil {
		t.Fatalf("caller's slice changed the signer: %v", err)
	}
}

func TestParseSigningKeys(t *testing.T) {
	a, b := string(keyA), string(keyB)
	tests := []struct {
		name string
		in   string
		want []string
		err  error
	}{
		{"current only", a, []string{a}, nil},
		{"current and previous", a + "," + b, []string{a, b}, nil},
		{"whitespace and newline trimmed", " " + a + " ,\n" + b + "\n", []string{a, b}, nil},
		{"empty", "", nil, ErrNoSigningKey},
		{"blank", " \n", nil, ErrNoSigningKey},
		{"short", "short", nil, ErrWeakKey},
		{"trailing comma", a + ",", nil, ErrWeakKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSigningKeys(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d keys, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if string(got[i]) != tt.want[i] {
					t.Fatalf("key %d differs", i)
				}
			}
			if err != nil && strings.Contains(err.Error(), a) {
				t.Fatalf("error leaks a key")
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	s := mustSigner(f, keyA, keyB)
	now := time.Unix(1_700_000_000, 0)
	f.Add(s.Sign(Claims{OpenID: "oGZUI0egBJY1zhBYw2KhdUfwVJJE", Account: "acct-1", ExpiresAt: now.Add(time.Hour)}), "u", int64(1_700_003_600))
	f.Add("", "", int64(0))
	f.Add("a.b", "a|b", int64(-1))
	f.Add("MXwxfHU.AAAA", "\x00", int64(1<<62))
	f.Fuzz(func(t *testing.T, token, openid string, exp int64) {
		if got, err := s.Verify(token, now); err == nil && (got.OpenID == "" || got.Account == "") {
			t.Fatal("verified a token with no openid or account")
		}
		if openid == "" || len(openid) > MaxOpenIDLen {
			return
		}
		got, err := s.Verify(s.Sign(Claims{OpenID: openid, Account: "acct-1", ExpiresAt: time.Unix(exp, 0)}), now)
		switch {
		case exp > now.Add(TokenLifetime+maxSkew).Unix():
			if !errors.Is(err, ErrTokenInvalid) {
				t.Fatalf("token expiring past a lifetime: err = %v", err)
			}
		case exp > now.Unix():
			if err != nil || got.OpenID != openid {
				t.Fatalf("round trip = %q, %v", got, err)
			}
		case !errors.Is(err, ErrTokenExpired):
			t.Fatalf("expired token: err = %v", err)
		}
	})
}

func TestValidIDAcceptsOnlyWhatNewIDMakes(t *testing.T) {
	for range 1000 {
		if id := NewID(); !ValidID(id) {
			t.Fatalf("ValidID(%q) = false for an id NewID made", id)
		}
	}
	for _, tc := range []struct {
		name, id string
		want     bool
	}{
		{"sixteen zero bytes", "AAAAAAAAAAAAAAAAAAAAAA", true},
		{"both base64url extras", "-_-_-_-_-_-_-_-_-_-_-A", true},
		{"empty", "", false},
		{"one short", "AAAAAAAAAAAAAAAAAAAAA", false},
		{"one long", "AAAAAAAAAAAAAAAAAAAAAAA", false},
		{"standard base64's plus", "+AAAAAAAAAAAAAAAAAAAAA", false},
		{"standard base64's slash", "/AAAAAAAAAAAAAAAAAAAAA", false},
		{"padded", "AAAAAAAAAAAAAAAAAAAA==", false},
		{"a space", "AAAAAAAAAA AAAAAAAAAAA", false},
		{"newlines the decoder would skip", "AAAAAAAAAA\nAAAAAAAAA\nA", false},
		{"unused bits set in the last character", "AAAAAAAAAAAAAAAAAAAAAB", false},
		{"non-ASCII of the right byte length", "AAAAAAAAAAAAAAAAAAAAé", false},
		{"a path separator", "AAAAAAAAAA#AAAAAAAAAAA", false},
		{"3,000 characters", strings.Repeat("A", 3000), false},
	} {
		if got := ValidID(tc.id); got != tc.want {
			t.Errorf("%s: ValidID(%q) = %v, want %v", tc.name, tc.id, got, tc.want)
		}
	}
}
