package wechat

// WeChat publishes the format of neither a login code nor a cloudID. Those
// seen are 32 (code) and under 100 (cloudID) characters of letters, digits,
// '_' and '-'. The bounds here are far wider, so they refuse only what
// cannot be one (a pasted payload, a URL, spaces) before it costs a call
// to WeChat.
const (
	// MaxCodeLen is the longest login code sent to WeChat.
	MaxCodeLen = 256
	// MaxCloudIDLen is the longest cloudID sent to WeChat.
	MaxCloudIDLen = 1024
)

// ValidCode reports whether code could be a wx.login code: 1 to MaxCodeLen
// characters of the URL- and base64-safe set.
func ValidCode(code string) bool { return validToken(code, MaxCodeLen) }

// ValidCloudID reports whether id could be a cloudID: 1 to MaxCloudIDLen
// characters of the URL- and base64-safe set.
func ValidCloudID(id string) bool { return validToken(id, MaxCloudIDLen) }

func validToken(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_', c == '-', c == '.', c == '~', c == '+', c == '/', c == '=':
		default:
			return false
		}
	}
	return true
}
