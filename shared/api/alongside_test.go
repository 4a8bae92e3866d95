package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/internal/testenv"
)

// The read routes run beside the revocation read: a token whose account
// was deleted still gets 401 on every one of them, and the memberId a
// read would make on first use is never made for it.
func TestARevokedTokenGetsNothingFromTheReadsRunBesideItsRevocationRead(t *testing.T) {
	e := newAPIEnv(t)
	openid := testenv.UniqueID("api-revoked")
	token := e.loginUser(t, openid)
	del := events.APIGatewayV2HTTPRequest{RouteKey: "DELETE /v1/me", Headers: map[string]string{"authorization": "Bearer " + token}}
	if resp := call(t, Account(e.svc), del); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("the deletion: %d %s", resp.StatusCode, resp.Body)
	}
	group := map[string]string{"groupId": crypto.NewID()}
	event := map[string]string{"eventId": crypto.NewID()}
	tests := []struct {
		name  string
		h     Handler
		route string
		path  map[string]string
	}{
		{"the days", Steps(e.svc), "GET /v1/steps", nil},
		{"the summary", Steps(e.svc), "GET /v1/steps/summary", nil},
		{"the profile", Social(e.svc), "GET /v1/me/profile", nil},
		{"the groups", Social(e.svc), "GET /v1/groups", nil},
		{"a group board", Social(e.svc), "GET /v1/groups/{groupId}/board", group},
		{"the friends", Social(e.svc), "GET /v1/friends", nil},
		{"the friends board", Social(e.svc), "GET /v1/friends/board", nil},
		{"the events", Challenge(e.svc), "GET /v1/events", nil},
		{"an event", Challenge(e.svc), "GET /v1/events/{eventId}", event},
		{"an event's board", Challenge(e.svc), "GET /v1/events/{eventId}/board", event},
		{"an event's teams", Challenge(e.svc), "GET /v1/events/{eventId}/teams", event},
		{"an event's participants", Challenge(e.svc), "GET /v1/events/{eventId}/participants", event},
		{"an event's export", Challenge(e.svc), "GET /v1/events/{eventId}/export", event},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := getReq(tt.route, token, nil)
			req.PathParameters = tt.path
			checkEnvelope(t, call(t, tt.h, req), http.StatusUnauthorized, "INVALID_TOKEN")
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if mid, found, err := e.Store.LookupMemberID(ctx, openid); err != nil || found {
		t.Errorf("memberId of the deleted account after the reads: %q, %v, %v; want none made", mid, found, err)
	}
}

// A token from a login after the user's memberId was made carries it, and
// the friends board answers for that member.
func TestATokenCarriesTheMemberIDTheUserHadAtLogin(t *testing.T) {
	e := newAPIEnv(t)
	openid := testenv.UniqueID("api-mid")
	first := e.loginUser(t, openid)
	resp := call(t, Social(e.svc), getReq("GET /v1/me/profile", first, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the profile: %d %s", resp.StatusCode, resp.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mid, found, err := e.Store.LookupMemberID(ctx, openid)
	if err != nil || !found {
		t.Fatalf("memberId after the profile read: %v, %v", found, err)
	}
	c, err := e.svc.Sessions.Verify(e.loginUser(t, openid))
	if err != nil || c.MemberID != mid {
		t.Fatalf("the second login's token names memberId %q (%v), want %q", c.MemberID, err, mid)
	}
	if c, _ := e.svc.Sessions.Verify(first); c.MemberID != "" {
		t.Errorf("the first login's token names memberId %q, want none: the user had none then", c.MemberID)
	}
	resp = call(t, Social(e.svc), getReq("GET /v1/friends/board", e.loginUser(t, openid), nil))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"memberId":"`+mid+`"`) {
		t.Errorf("the friends board: %d %s; want the caller's own entry as %s", resp.StatusCode, resp.Body, mid)
	}
}
