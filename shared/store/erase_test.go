package store

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/config"
	"github.com/werun-sam/werun-sam/shared/store/ddb"
)

// finderBatchesOnly lets through only the BatchWriteItems that delete the
// memberId pointer or a profile, and refuses the others: the worst an
// Erase cut short between its batches can meet.
type finderBatchesOnly struct{}

func (finderBatchesOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.Header.Get("X-Amz-Target"), ".BatchWriteItem") {
		return http.DefaultTransport.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if bytes.Contains(body, []byte(`"S":"`+memberSK+`"}`)) || bytes.Contains(body, []byte(`"S":"`+profileSK+`"}`)) {
		return http.DefaultTransport.RoundTrip(req)
	}
	refusal := `{"__type":"com.amazon.coral.validate#ValidationException","message":"refused by the test"}`
	return &http.Response{StatusCode: http.StatusBadRequest, Request: req, Body: io.NopCloser(strings.NewReader(refusal)),
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}}}, nil
}

// An Erase cut short, whichever of its batches failed, leaves the items
// that find the rest: a repeated Holdings still finds every membership,
// though the user's items span several batches.
func TestAnEraseCutShortLeavesWhatFindsTheRest(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("erase")
	if _, err := st.Account(ctx, openid, uniqueID("account")); err != nil {
		t.Fatal(err)
	}
	mid, err := st.MemberID(ctx, openid, uniqueID("member"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutProfile(ctx, Profile{MemberID: mid, OpenID: openid, Nickname: "erased"}); err != nil {
		t.Fatal(err)
	}
	const groups = 30 // 2 items each: more than two batches in all
	now := time.Now()
	for i := range groups {
		m := Membership{GroupID: fmt.Sprintf("%s-g%02d", openid, i), MemberID: mid, OpenID: openid, JoinedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.Join(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	h, err := st.Holdings(ctx, openid)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Groups) != groups || len(h.keys) <= 2*ddb.BatchWriteMax {
		t.Fatalf("before: %d groups, %d keys", len(h.Groups), len(h.keys))
	}
	cfg, err := config.AWS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cut := New(dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: finderBatchesOnly{}} }), st.t.Name)
	if err := cut.Erase(ctx, h); err == nil {
		t.Fatal("the Erase whose batches were refused succeeded")
	}
	again, err := st.Holdings(ctx, openid)
	if err != nil {
		t.Fatal(err)
	}
	if again.MemberID != mid || len(again.Groups) != groups {
		t.Fatalf("after the Erase cut short: memberId %q, %d of %d groups found", again.MemberID, len(again.Groups), groups)
	}
	if err := st.Erase(ctx, again); err != nil {
		t.Fatal(err)
	}
	if left, err := st.Holdings(ctx, openid); err != nil || len(left.keys) != 0 {
		t.Errorf("after the repeated Erase: %d items, %v", len(left.keys), err)
	}
}
