package systest

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/usersteps"
)

// export is the answer of GET /v1/me/export, as a client reads it.
type export struct {
	OpenID  string
	Profile *struct{ MemberID, Nickname string }
	Days    []struct {
		Date, Source, SyncedAt, ExpiresAt string
		Steps                             int64
	}
	Groups      []struct{ GroupID string }
	Friends     []struct{ FriendID, Nickname string }
	Invites     []struct{ InviteCode string }
	SessionKeys struct {
		Count    int
		IssuedAt []string
	}
}

// tableItems is every item of the test table, each as its JSON, keyed by
// "PK / SK": what a look at the whole table finds.
func tableItems(t *testing.T) map[string]string {
	t.Helper()
	env := services.ForTests(t, services.Need{DynamoDB: true})
	db := services.Client(env.DynamoDB)
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: aws.String(env.Table)}
	for {
		page, err := db.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			flat := map[string]string{}
			for k, v := range item {
				switch v := v.(type) {
				case *types.AttributeValueMemberS:
					flat[k] = v.Value
				case *types.AttributeValueMemberN:
					flat[k] = v.Value
				}
			}
			raw, _ := json.Marshal(flat)
			out[flat["PK"]+" / "+flat["SK"]] = string(raw)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// holding lists the items that mention any of the values.
func holding(items map[string]string, values ...string) []string {
	var out []string
	for _, raw := range items {
		for _, v := range values {
			if v != "" && strings.Contains(raw, v) {
				out = append(out, raw)
				break
			}
		}
	}
	return out
}

// plantBoard stores a board snapshot naming openid, as the refresher
// would have, for a date of its own.
func plantBoard(t *testing.T, openid string) string {
	t.Helper()
	env := services.ForTests(t, services.Need{DynamoDB: true})
	name := "BOARD#1999-" + stack.RandomKey()[:8]
	data, _ := json.Marshal(boards.Board{Date: "1999-01-01", Users: 2, Top: []boards.Ranked{{OpenID: openid, Steps: 9000}, {OpenID: "someone-else", Steps: 100}},
		Histogram: []int{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}})
	_, err := services.Client(env.DynamoDB).PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(env.Table),
		Item: map[string]types.AttributeValue{
			"PK":        &types.AttributeValueMemberS{Value: "APP#" + stack.AppID},
			"SK":        &types.AttributeValueMemberS{Value: "SNAPSHOT#" + name},
			"data":      &types.AttributeValueMemberS{Value: string(data)},
			"expiresAt": &types.AttributeValueMemberN{Value: "4102444800"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return "APP#" + stack.AppID + " / SNAPSHOT#" + name
}

// TestAccountThroughTheFunctions: an export holds what syncs, profiles,
// groups and friends wrote; a deletion leaves nothing of the user in the
// table but its revocation once its second pass has run (login-code
// records included); old tokens get 401, the friend's boards lose the user, a new
// login is empty; syncs racing a deletion do not bring the account back;
// days carry the retention TTL.
func TestAccountThroughTheFunctions(t *testing.T) {
	st := localStack(t, "account")
	api, sim := st.API, st.Sim
	alice, bob := newClient(t, api, sim, "alice"), newClient(t, api, sim, "bob")
	yesterday := steps.DateOf(time.Now().AddDate(0, 0, -1))
	group := "family-" + stack.RandomKey()[:8]

	// Alice and bob sync, name themselves, join one group and befriend.
	alice.walk(9000)
	bob.walk(7000)
	ids := map[*client]string{}
	for _, c := range []*client{alice, bob} {
		c.must(http.StatusOK, "PUT", "/v1/me/profile", map[string]string{"nickname": c.openid[:5]}, nil)
		var me struct{ MemberID string }
		c.must(http.StatusOK, "GET", "/v1/me/profile", nil, &me)
		ids[c] = me.MemberID
		share := c.simulate("/_sim/group", map[string]any{"group": group, "kind": "shareInfo"})
		c.must(http.StatusOK, "POST", "/v1/groups", map[string]string{"encryptedData": share["encryptedData"], "iv": share["iv"]}, nil)
	}
	var joined struct{ GroupID string }
	cloud := alice.simulate("/_sim/group", map[string]any{"group": group})
	alice.must(http.StatusOK, "POST", "/v1/groups", map[string]string{"cloudID": cloud["cloudID"]}, &joined)
	gid := joined.GroupID
	var inv struct{ InviteCode string }
	alice.must(http.StatusCreated, "POST", "/v1/friends/invites", nil, &inv)
	bob.must(http.StatusOK, "POST", "/v1/friends", map[string]string{"inviteCode": inv.InviteCode}, nil)
	var unused struct{ InviteCode string }
	alice.must(http.StatusCreated, "POST", "/v1/friends/invites", nil, &unused)

	// The export holds it all, and no session key.
	var ex export
	raw := alice.must(http.StatusOK, "GET", "/v1/me/export", nil, &ex)
	if ex.OpenID != alice.openid || ex.Profile == nil || ex.Profile.MemberID != ids[alice] || ex.Profile.Nickname != alice.openid[:5] {
		t.Errorf("export's identity and profile: %s", raw)
	}
	if len(ex.Days) != 1 || ex.Days[0].Date != yesterday || ex.Days[0].Steps != 9000 || ex.Days[0].Source != usersteps.SourceEncrypted || ex.Days[0].SyncedAt == "" {
		t.Errorf("export's days: %s", raw)
	}
	if len(ex.Groups) != 1 || ex.Groups[0].GroupID != gid {
		t.Errorf("export's groups: %s", raw)
	}
	if len(ex.Friends) != 1 || ex.Friends[0].FriendID != ids[bob] || ex.Friends[0].Nickname != bob.openid[:5] {
		t.Errorf("export's friends: %s", raw)
	}
	codes := map[string]bool{}
	for _, i := range ex.Invites {
		codes[i.InviteCode] = true
	}
	if len(codes) != 2 || !codes[inv.InviteCode] || !codes[unused.InviteCode] {
		t.Errorf("export's invites: %s", raw)
	}
	if ex.SessionKeys.Count < 1 || len(ex.SessionKeys.IssuedAt) != ex.SessionKeys.Count || strings.Contains(raw, "sessionKey\"") {
		t.Errorf("export's session keys: %s", raw)
	}

	// Days carry the TTL attribute: RETENTION_DAYS (400) after the date.
	items := tableItems(t)
	var day struct{ ExpiresAt string }
	_ = json.Unmarshal([]byte(items["USER#"+bob.openid+" / DAY#"+yesterday]), &day)
	date, _ := time.ParseInLocation(time.DateOnly, yesterday, steps.CST)
	if want := date.AddDate(0, 0, 400).Unix(); day.ExpiresAt != strconv.FormatInt(want, 10) {
		t.Errorf("bob's day expiresAt = %q, want %d", day.ExpiresAt, want)
	}

	// Alice deletes her account.
	snapshot := plantBoard(t, alice.openid)
	old := alice.token
	alice.must(http.StatusNoContent, "DELETE", "/v1/me", nil, nil)
	for _, route := range [][2]string{{"GET", "/v1/steps"}, {"GET", "/v1/me/export"}, {"GET", "/v1/friends"}} {
		if status, raw := alice.call(route[0], route[1], nil, nil); status != http.StatusUnauthorized || !strings.Contains(raw, "INVALID_TOKEN") {
			t.Errorf("%s %s with the old token: %d %s, want 401 INVALID_TOKEN", route[0], route[1], status, raw)
		}
	}
	// Until the second pass, a login waits and a resend runs the first
	// pass again; after it, the old token's deletion is done (401).
	if status, raw := alice.call("POST", "/v1/session", map[string]string{"code": alice.simulate("/_sim/login", map[string]any{})["code"]}, nil); status != http.StatusConflict || !strings.Contains(raw, "DELETION_IN_PROGRESS") {
		t.Errorf("a login before the second pass: %d %s, want 409 DELETION_IN_PROGRESS", status, raw)
	}
	alice.must(http.StatusNoContent, "DELETE", "/v1/me", nil, nil)
	if rep := secondPass(t, st); rep.Deletions < 1 {
		t.Errorf("the second pass finished %d deletions, want alice's", rep.Deletions)
	}
	if status, raw := alice.call("DELETE", "/v1/me", nil, nil); status != http.StatusUnauthorized || !strings.Contains(raw, "INVALID_TOKEN") {
		t.Errorf("DELETE /v1/me with the old token after the second pass: %d %s, want 401 INVALID_TOKEN", status, raw)
	}
	items = tableItems(t)
	if left := holding(items, alice.openid, ids[alice], inv.InviteCode, unused.InviteCode); len(left) != 0 {
		t.Errorf("items of alice left after the deletion:\n%s", strings.Join(left, "\n"))
	}
	if !strings.Contains(items[snapshot], "someone-else") || strings.Contains(items[snapshot], alice.openid) {
		t.Errorf("the stored board after the deletion: %s", items[snapshot])
	}

	// Bob's boards and friends no longer show her.
	var b board
	bob.must(http.StatusOK, "GET", "/v1/groups/"+gid+"/board?date="+yesterday, nil, &b)
	if _, ok := b.steps()[ids[alice]]; ok || b.Members != 1 {
		t.Errorf("bob's group board after alice's deletion: %+v", b)
	}
	bob.must(http.StatusOK, "GET", "/v1/friends/board?date="+yesterday, nil, &b)
	if _, ok := b.steps()[ids[alice]]; ok || b.Members != 1 {
		t.Errorf("bob's friends board after alice's deletion: %+v", b)
	}
	var friends struct{ Friends []struct{ FriendID string } }
	bob.must(http.StatusOK, "GET", "/v1/friends", nil, &friends)
	if len(friends.Friends) != 0 {
		t.Errorf("bob's friends after alice's deletion: %+v", friends)
	}

	// A new login, at once, is a new and empty account.
	alice.login()
	if alice.token == old {
		t.Fatal("the new login gave the old token")
	}
	raw = alice.must(http.StatusOK, "GET", "/v1/me/export", nil, &ex)
	if ex.Profile != nil || len(ex.Days) != 0 || len(ex.Groups) != 0 || len(ex.Friends) != 0 || len(ex.Invites) != 0 || ex.SessionKeys.Count != 1 {
		t.Errorf("the new account's export: %s", raw)
	}

	// Syncs racing a deletion: whichever lands first, nothing of the
	// account is left after it.
	carol := newClient(t, api, sim, "carol")
	carol.walk(5000)
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for range 6 {
		data := carol.simulate("/_sim/werun", map[string]any{"days": 5})
		wg.Go(func() {
			status, _ := carol.call("POST", "/v1/werun/decrypt", map[string]string{"encryptedData": data["encryptedData"], "iv": data["iv"]}, nil)
			statuses <- status
		})
	}
	wg.Go(func() {
		status, _ := carol.call("DELETE", "/v1/me", nil, nil)
		statuses <- status
	})
	wg.Wait()
	close(statuses)
	for status := range statuses {
		if status != http.StatusOK && status != http.StatusNoContent && status != http.StatusUnauthorized {
			t.Errorf("a racing sync or the deletion answered %d", status)
		}
	}
	secondPass(t, st)
	if left := holding(tableItems(t), carol.openid); len(left) != 0 {
		t.Errorf("items of carol left after syncs raced her deletion:\n%s", strings.Join(left, "\n"))
	}
}

// secondPass runs the scheduled refresher once, as EventBridge Scheduler
// would: with DELETION_DELAY 1ms it finishes every deletion answered so far.
func secondPass(t *testing.T, st *stack.Stack) boards.RefreshReport {
	t.Helper()
	rep, err := refresh(t, st)
	if err != nil {
		t.Fatalf("the refresher: %v", err)
	}
	return rep
}

// refresh is one scheduled run of the stack's refresher.
func refresh(t *testing.T, st *stack.Stack) (boards.RefreshReport, error) {
	t.Helper()
	scheduled, err := os.ReadFile("events/scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := st.Pools["RefreshFunction"].Invoke(ctx, scheduled)
	var rep boards.RefreshReport
	if err == nil {
		err = json.Unmarshal(out, &rep)
	}
	return rep, err
}
