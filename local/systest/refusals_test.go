package systest

import (
	"net/http"
	"strings"
	"testing"
)

// The inputs the red team sent through the deployed shape get the route's
// own refusal from the built functions, never a 500: ids of any other form
// than the issued one (checked before DynamoDB, whose key limits dynalite
// does not enforce on Query keys), names with characters that do not show
// as themselves, and avatar links to anything but a public https host.
func TestBadIdsNamesAndLinksAreRefusedByTheFunctions(t *testing.T) {
	st := localStack(t, "refusals")
	alice := newClient(t, st.API, st.Sim, "alice")
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"a 1,018-character friendId", "DELETE", "/v1/friends/" + long(1018), nil, http.StatusNotFound, "FRIEND_NOT_FOUND"},
		{"a 2,042-character inviteCode", "POST", "/v1/friends", map[string]string{"inviteCode": long(2042)}, http.StatusUnprocessableEntity, "INVALID_INVITE"},
		{"a 3,000-character groupId", "GET", "/v1/groups/" + long(3000) + "/board", nil, http.StatusNotFound, "GROUP_NOT_FOUND"},
		{"a groupId of the wrong characters", "DELETE", "/v1/groups/" + strings.Repeat("%2A", 22), nil, http.StatusNotFound, "GROUP_NOT_FOUND"},
		{"a nickname with a zero-width space", "PUT", "/v1/me/profile", map[string]string{"nickname": "alice\u200b"}, http.StatusBadRequest, "INVALID_FIELD"},
		{"a nickname split by a zero-width space", "PUT", "/v1/me/profile", map[string]string{"nickname": "sim\u200brisky"}, http.StatusBadRequest, "INVALID_FIELD"},
		{"a nickname of Hangul fillers", "PUT", "/v1/me/profile", map[string]string{"nickname": "\u3164\u3164"}, http.StatusBadRequest, "INVALID_FIELD"},
		{"a nickname turned around", "PUT", "/v1/me/profile", map[string]string{"nickname": "a\u202eb"}, http.StatusBadRequest, "INVALID_FIELD"},
		{"an avatar on the loopback address", "PUT", "/v1/me/profile", map[string]string{"nickname": "alice", "avatarUrl": "https://127.0.0.1/a.png"}, http.StatusBadRequest, "INVALID_FIELD"},
		{"an avatar on the metadata address", "PUT", "/v1/me/profile", map[string]string{"nickname": "alice", "avatarUrl": "https://169.254.169.254/a"}, http.StatusBadRequest, "INVALID_FIELD"},
		{"an avatar on IPv6 loopback", "PUT", "/v1/me/profile", map[string]string{"nickname": "alice", "avatarUrl": "https://[::1]/a"}, http.StatusBadRequest, "INVALID_FIELD"},
		{"an avatar on port 99999", "PUT", "/v1/me/profile", map[string]string{"nickname": "alice", "avatarUrl": "https://cdn.example.com:99999/a"}, http.StatusBadRequest, "INVALID_FIELD"},
		{"an avatar with markup", "PUT", "/v1/me/profile", map[string]string{"nickname": "alice", "avatarUrl": `https://cdn.example.com/"><script>`}, http.StatusBadRequest, "INVALID_FIELD"},
		{"an avatar with a user name", "PUT", "/v1/me/profile", map[string]string{"nickname": "alice", "avatarUrl": "https://u:p@cdn.example.com/a"}, http.StatusBadRequest, "INVALID_FIELD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, raw := alice.call(c.method, c.path, c.body, nil)
			if status != c.status || !strings.Contains(raw, `"`+c.code+`"`) {
				t.Errorf("%s %s: %d %s, want %d %s", c.method, c.path[:min(len(c.path), 40)], status, raw, c.status, c.code)
			}
		})
	}
	// The same names and links, shown as themselves, are taken.
	alice.must(http.StatusOK, "PUT", "/v1/me/profile", map[string]string{"nickname": "alice 👨\u200d👩\u200d👧", "avatarUrl": "https://cdn.example.com/a.png"}, nil)
}
