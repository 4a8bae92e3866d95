package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

type sample struct {
	AppID         string `json:"appid"`
	SessionKey    string `json:"sessionKey"`
	IV            string `json:"iv"`
	EncryptedData string `json:"encryptedData"`
}

func loadSample(t testing.TB) sample {
	t.Helper()
	b, err := os.ReadFile("testdata/official_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	var s sample
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	testKey = "AAECAwQFBgcICQoLDA0ODw==" // bytes 0..15
	testIV  = "EBESExQVFhcYGRobHB0eHw==" // bytes 16..31
)

func TestDecryptOfficialSample(t *testing.T) {
	s := loadSample(t)
	pt, err := Decrypt(s.SessionKey, s.EncryptedData, s.IV)
	if err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	var got struct {
		OpenID    string    `json:"openId"`
		Watermark Watermark `json:"watermark"`
	}
	if err := json.Unmarshal(pt, &got); err != nil {
		t.Fatalf("plaintext is not JSON: %v", err)
	}
	if got.OpenID != "oGZUI0egBJY1zhBYw2KhdUfwVJJE" {
		t.Errorf("openId = %q", got.OpenID)
	}
	if got.Watermark.AppID != s.AppID || got.Watermark.Timestamp != 1477314187 {
		t.Errorf("watermark = %+v", got.Watermark)
	}
}

func TestDecryptAcceptsManglingOfTransport(t *testing.T) {
	s := loadSample(t)
	want, err := Decrypt(s.SessionKey, s.EncryptedData, s.IV)
	if err != nil {
		t.Fatal(err)
	}
	want = bytes.Clone(want)
	if !strings.Contains(s.EncryptedData, "+") {
		t.Fatal("sample has no '+' to mangle")
	}
	tests := []struct {
		name, key, data, iv string
	}{
		{"plus turned into space by form decoding", s.SessionKey, strings.ReplaceAll(s.EncryptedData, "+", " "), s.IV},
		{"line breaks from a wrapped encoder", s.SessionKey, s.EncryptedData[:64] + "\r\n" + s.EncryptedData[64:] + "\n", s.IV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decrypt(tt.key, tt.data, tt.iv)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("plaintext differs")
			}
		})
	}
}

func TestDecryptErrors(t *testing.T) {
	s := loadSample(t)
	otherKey := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	ct := mustDecode(t, s.EncryptedData)
	blockAligned := func(n int) string { return base64.StdEncoding.EncodeToString(ct[:n]) }
	tamperedLast := bytes.Clone(ct)
	tamperedLast[len(tamperedLast)-17] ^= 0x01 // flips a pad byte of the last block

	tests := []struct {
		name, key, data, iv string
		want                error
	}{
		{"key not base64", "tiihtNczf5v6AKRyjwEUhQ=!", s.EncryptedData, s.IV, ErrBase64},
		{"key without padding", "tiihtNczf5v6AKRyjwEUhQ", s.EncryptedData, s.IV, ErrBase64},
		{"key of 24 bytes", base64.StdEncoding.EncodeToString(make([]byte, 24)), s.EncryptedData, s.IV, ErrKeySize},
		{"key far too long", base64.StdEncoding.EncodeToString(make([]byte, 100)), s.EncryptedData, s.IV, ErrKeySize},
		{"key far too long and garbage", strings.Repeat("!", 100), s.EncryptedData, s.IV, ErrBase64},
		{"empty key", "", s.EncryptedData, s.IV, ErrKeySize},
		{"iv not base64", s.SessionKey, s.EncryptedData, "r7BXXKkLb8qrSNn05n0q*A==", ErrBase64},
		{"iv of 8 bytes", s.SessionKey, s.EncryptedData, "AAAAAAAAAAA=", ErrIVSize},
		{"empty iv", s.SessionKey, s.EncryptedData, "", ErrIVSize},
		{"data not base64", s.SessionKey, "%%%%" + s.EncryptedData[4:], s.IV, ErrBase64},
		{"data with data after padding", s.SessionKey, "AA==" + s.EncryptedData, s.IV, ErrBase64},
		{"data with a tab", s.SessionKey, "\t" + s.EncryptedData, s.IV, ErrBase64},
		{"empty data", s.SessionKey, "", s.IV, ErrCiphertextSize},
		{"data not whole blocks", s.SessionKey, blockAligned(20), s.IV, ErrCiphertextSize},
		{"wrong key", otherKey, s.EncryptedData, s.IV, ErrDecrypt},
		{"wrong iv garbles the first block", s.SessionKey, s.EncryptedData, testIV, ErrDecrypt},
		{"truncated to whole blocks", s.SessionKey, blockAligned(len(ct) - 16), s.IV, ErrDecrypt},
		{"tampered padding", s.SessionKey, base64.StdEncoding.EncodeToString(tamperedLast), s.IV, ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decrypt(tt.key, tt.data, tt.iv)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got != nil {
				t.Fatalf("plaintext returned with an error")
			}
			if strings.Contains(err.Error(), s.SessionKey) || strings.Contains(err.Error(), tt.key) && tt.key != "" {
				t.Fatalf("error leaks the key: %v", err)
			}
		})
	}
}

func TestUnpadIsStrict(t *testing.T) {
	block := func(tail ...byte) []byte {
		b := bytes.Repeat([]byte{'x'}, 16-len(tail))
		return append(b, tail...)
	}
	tests := []struct {
		name string
		in   []byte
		want []byte
		ok   bool
	}{
		{"one pad byte", block(1), bytes.Repeat([]byte{'x'}, 15), true},
		{"three pad bytes", block(3, 3, 3), bytes.Repeat([]byte{'x'}, 13), true},
		{"a whole pad block", append(block(), bytes.Repeat([]byte{16}, 16)...), block(), true},
		{"zero pad", block(0), nil, false},
		{"pad over a block", append(block(), bytes.Repeat([]byte{17}, 16)...), nil, false},
		{"inner pad byte wrong", block(2, 3, 3), nil, false},
		{"byte before the pad may equal anything", block(9, 3, 3, 3), block(9)[3:], true},
		{"first of four pad bytes wrong", block(5, 4, 4, 4), nil, false},
		{"not a block", []byte{1}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := unpad(bytes.Clone(tt.in))
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && !bytes.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEncryptRoundTrip(t *testing.T) {
	for _, n := range []int{1, 15, 16, 17, 31, 32, 1500} {
		pt := append([]byte("{"), bytes.Repeat([]byte{'a'}, n-1)...)
		enc, err := Encrypt(testKey, testIV, pt)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(mustDecode(t, enc)); got != (n/16+1)*16 {
			t.Fatalf("len %d: ciphertext %d bytes, want pad to next block", n, got)
		}
		got, err := Decrypt(testKey, enc, testIV)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("len %d: round trip = %q, %v", n, got, err)
		}
	}
}

func TestEncryptErrors(t *testing.T) {
	tests := []struct {
		name, key, iv string
		want          error
	}{
		{"bad key", "***", testIV, ErrBase64},
		{"short key", "AAAA", testIV, ErrKeySize},
		{"short iv", testKey, "AAAA", ErrIVSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Encrypt(tt.key, tt.iv, []byte("{}")); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecryptRejectsNonObjectPlaintext(t *testing.T) {
	enc, err := Encrypt(testKey, testIV, []byte("not json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(testKey, enc, testIV); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("err = %v, want ErrDecrypt", err)
	}
}

func mustDecode(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzDecrypt(f *testing.F) {
	s := loadSample(f)
	f.Add(s.SessionKey, s.EncryptedData, s.IV, []byte(`{"stepInfoList":[]}`))
	f.Add(testKey, strings.ReplaceAll(s.EncryptedData, "+", " "), testIV, []byte(`{`))
	f.Add("", "", "", []byte{})
	f.Add("AAAA", "AA==AAAA", "====", []byte("{\x10\x10"))
	f.Add(testKey, "AAAAAAAAAAAAAAAAAAAAAA==", testIV, bytes.Repeat([]byte{16}, 16))
	f.Fuzz(func(t *testing.T, key, data, iv string, plaintext []byte) {
		if pt, err := Decrypt(key, data, iv); err == nil && (len(pt) == 0 || pt[0] != '{') {
			t.Fatalf("accepted plaintext %q", pt)
		}
		pt := append([]byte("{"), plaintext...)
		enc, err := Encrypt(testKey, testIV, pt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decrypt(testKey, enc, testIV)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip = %q, %v", got, err)
		}
	})
}

func BenchmarkDecrypt(b *testing.B) {
	s := loadSample(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decrypt(s.SessionKey, s.EncryptedData, s.IV); err != nil {
			b.Fatal(err)
		}
	}
}
