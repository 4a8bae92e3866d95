package wechat

import (
	"strings"
	"testing"
)

func TestValidCodeAndCloudID(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		code, cloud bool
	}{
		{"a real-looking code", "0a3Wbz000zHkQJ1N5D200x9Z4d1Wbz0x", true, true},
		{"a real-looking cloudID", "12_6xzUpjYl1JI3T7Nz9yqZ-Kx3hTu8wRw2Gt8cRp4s_YqS0VhKOdfX7u1Ql", true, true},
		{"base64 characters", "ab+/cd==", true, true},
		{"empty", "", false, false},
		{"longest code", strings.Repeat("a", MaxCodeLen), true, true},
		{"code one too long", strings.Repeat("a", MaxCodeLen+1), false, true},
		{"longest cloudID", strings.Repeat("a", MaxCloudIDLen), false, true},
		{"cloudID one too long", strings.Repeat("a", MaxCloudIDLen+1), false, false},
		{"space", "abc def", false, false},
		{"quote", `abc"`, false, false},
		{"url", "https://example.com/x?y=1", false, false},
		{"control character", "abc\x00", false, false},
		{"non-ASCII", "代码", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidCode(tt.in); got != tt.code {
				t.Errorf("ValidCode = %v, want %v", got, tt.code)
			}
			if got := ValidCloudID(tt.in); got != tt.cloud {
				t.Errorf("ValidCloudID = %v, want %v", got, tt.cloud)
			}
		})
	}
}
