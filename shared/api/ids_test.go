package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/usecases"
)

// idWatch is the real store, noting every groupId, friendId and invite
// code a use case asked it about.
type idWatch struct {
	usecases.Store
	mu   sync.Mutex
	seen []string
}

func (w *idWatch) note(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, id)
}

func (w *idWatch) asked(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Contains(w.seen, id)
}

func (w *idWatch) GroupMembers(ctx context.Context, groupID string, now time.Time) ([]store.Membership, error) {
	w.note(groupID)
	return w.Store.GroupMembers(ctx, groupID, now)
}

func (w *idWatch) Invite(ctx context.Context, code string) (store.Invite, bool, error) {
	w.note(code)
	return w.Store.Invite(ctx, code)
}

func (w *idWatch) Unfriend(ctx context.Context, memberID, friendID string) (bool, error) {
	w.note(friendID)
	return w.Store.Unfriend(ctx, memberID, friendID)
}

// Every id the API issues is crypto.NewID's 22 characters of base64url; an
// id of any other form in a path or a body gets the route's own refusal
// without reaching DynamoDB, whose key limits (2,048 bytes of partition
// key, 1,024 of sort key) an over-long one would break with a 500. An id of
// the right form that names nothing gets the same refusal from the store.
func TestAnIDNotOfTheIssuedFormIsRefusedBeforeTheStore(t *testing.T) {
	e := newAPIEnv(t)
	watch := &idWatch{Store: e.Store}
	cfg := e.Config(t)
	cfg.Store = watch
	h := Social(usecases.New(cfg))
	token := e.loginUser(t, testenv.UniqueID("api-ids"))

	cursor := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	badForms := map[string]string{
		"1,018 characters":                 strings.Repeat("a", 1018),
		"2,042 characters":                 strings.Repeat("b", 2042),
		"3,000 characters":                 strings.Repeat("c", 3000),
		"22 characters of standard base64": "ab+/AAAAAAAAAAAAAAAAAA",
		"a key separator":                  "AAAAAAAAAA#MEMBER#AAAA",
		"a NUL":                            "AAAAAAAAAA\x00AAAAAAAAAAA",
		"Chinese":                          "邀请码邀请码邀请",
		"unused bits set":                  "AAAAAAAAAAAAAAAAAAAAAB",
	}
	type route struct {
		name   string
		req    func(id string) events.APIGatewayV2HTTPRequest
		status int
		code   string
	}
	routes := []route{
		{"DELETE /v1/friends/{friendId}", func(id string) events.APIGatewayV2HTTPRequest {
			r := getReq("DELETE /v1/friends/{friendId}", token, nil)
			r.PathParameters = map[string]string{"friendId": id}
			return r
		}, 404, "FRIEND_NOT_FOUND"},
		{"POST /v1/friends", func(id string) events.APIGatewayV2HTTPRequest {
			b, _ := json.Marshal(AcceptRequest{InviteCode: id})
			r := postJSON(string(b), token)
			r.RouteKey = "POST /v1/friends"
			return r
		}, 422, "INVALID_INVITE"},
		{"GET /v1/groups/{groupId}/board", func(id string) events.APIGatewayV2HTTPRequest {
			r := getReq("GET /v1/groups/{groupId}/board", token, nil)
			r.PathParameters = map[string]string{"groupId": id}
			return r
		}, 404, "GROUP_NOT_FOUND"},
		{"DELETE /v1/groups/{groupId}", func(id string) events.APIGatewayV2HTTPRequest {
			r := getReq("DELETE /v1/groups/{groupId}", token, nil)
			r.PathParameters = map[string]string{"groupId": id}
			return r
		}, 404, "GROUP_NOT_FOUND"},
		{"GET /v1/groups?cursor= naming the id", func(id string) events.APIGatewayV2HTTPRequest {
			return getReq("GET /v1/groups", token, map[string]string{"cursor": cursor("1767225600000." + id)})
		}, 400, "INVALID_FIELD"},
	}
	for _, rt := range routes {
		for form, id := range badForms {
			t.Run(rt.name+" with "+form, func(t *testing.T) {
				checkEnvelope(t, call(t, h, rt.req(id)), rt.status, rt.code)
				if watch.asked(id) {
					t.Errorf("the store was asked about the %s id", form)
				}
			})
		}
		if rt.status == 400 {
			continue // a cursor of an unknown group is a cursor like any other
		}
		t.Run(rt.name+" with a well-formed id of nothing", func(t *testing.T) {
			id := crypto.NewID()
			checkEnvelope(t, call(t, h, rt.req(id)), rt.status, rt.code)
			if !watch.asked(id) {
				t.Error("a well-formed id was refused without asking the store")
			}
		})
	}
	for name, c := range map[string]string{
		"of 100,000 characters":       strings.Repeat("A", 100000),
		"that is not base64url":       "MTc2NzIyNTYwMDAwMC5h+/==",
		"without a dot":               cursor("1767225600000"),
		"with a time that is no time": cursor("soon." + crypto.NewID()),
	} {
		t.Run("GET /v1/groups with a cursor "+name, func(t *testing.T) {
			checkEnvelope(t, call(t, h, getReq("GET /v1/groups", token, map[string]string{"cursor": c})), 400, "INVALID_FIELD")
		})
	}
}
