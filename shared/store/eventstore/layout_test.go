package eventstore_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/internal/testenv"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/ddb"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
)

// layoutRow is one row of docs/DESIGN.md's data-model table.
type layoutRow struct {
	pk, sk     string
	match      *regexp.Regexp
	byOperator bool
}

// designLayout reads the data-model table: each key pattern becomes a
// regular expression, a <placeholder> one key segment and YYYY-MM-DD a date.
func designLayout(t *testing.T) []layoutRow {
	t.Helper()
	raw, err := os.ReadFile("../../../docs/DESIGN.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "## Data model")
	end := strings.Index(doc[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("docs/DESIGN.md has no ## Data model section")
	}
	cell := regexp.MustCompile("^\\| `([^`]+)` \\| `([^`]+)` \\|.*\\| ([^|]*) \\|$")
	segment := func(p string) string {
		re := regexp.QuoteMeta(p)
		re = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(re, `[^#]+`)
		return strings.ReplaceAll(re, "YYYY-MM-DD", `\d{4}-\d{2}-\d{2}`)
	}
	var rows []layoutRow
	for _, line := range strings.Split(doc[start:start+1+end], "\n") {
		m := cell.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rows = append(rows, layoutRow{pk: m[1], sk: m[2], byOperator: strings.Contains(m[3], "operator"),
			match: regexp.MustCompile("^" + segment(m[1]) + "\x00" + segment(m[2]) + "$")})
	}
	if len(rows) < 10 {
		t.Fatalf("read %d rows of the data-model table; the table's format changed", len(rows))
	}
	return rows
}

// The table in docs/DESIGN.md and the keys the store packages build agree
// both ways (this test lives here, beside the last of them, to write
// through both store and eventstore):
// one write of each kind lands items that each match exactly one row, and
// every row but the operator's is matched by some item written.
func TestTheDataModelTableNamesEveryItemTheStoreWrites(t *testing.T) {
	rows := designLayout(t)
	st, ev := testenv.Store(t), (*eventstore.Store)(nil)
	ev = eventstore.New(st.Table())
	ctx := testenv.Timeout(t, 30*time.Second)
	mark := testenv.UniqueID("layout")
	openid, friend, app := "o-"+mark, "o-friend-"+mark, "wx"+mark
	now := time.Now()
	later := now.Add(time.Hour)
	today := now.Format(time.DateOnly)
	if _, err := st.WriteDays(ctx, openid, []store.Day{{Date: today, Steps: 100, Board: today + "#00", ExpiresAt: later}}); err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { return st.AddSessionKey(ctx, openid, store.SessionKey{Key: "k-" + mark, IssuedAt: now}) },
		func() error { _, err := st.Account(ctx, openid, "acct-"+mark); return err },
		func() error { return st.Revoke(ctx, "acct-"+mark, later, false) },
		func() error {
			return st.PutDeletion(ctx, store.Deletion{Account: "acct-" + mark, OpenID: openid, Due: now, Until: later})
		},
		func() error {
			return st.PutRedeemedCode(ctx, "hash-"+mark, store.RedeemedCode{OpenID: openid, SessionKey: "k", ExpiresAt: later})
		},
		func() error {
			if _, err := st.AcquireTokenLease(ctx, app, "holder", now, later); err != nil {
				return err
			}
			return st.PutAccessToken(ctx, app, "holder", "token", later, time.Time{})
		},
		func() error { return st.PutSnapshot(ctx, app, "BOARD#"+today, []byte("{}"), later) },
		func() error { return st.PutSnapshot(ctx, app, "BOARD#"+today+"#NEXT", []byte("{}"), later) },
		func() error { _, err := st.MemberID(ctx, openid, "mid-"+mark); return err },
		func() error { _, err := st.MemberID(ctx, friend, "fmid-"+mark); return err },
		func() error {
			return st.PutProfile(ctx, store.Profile{MemberID: "mid-" + mark, OpenID: openid, Nickname: "n"})
		},
		func() error { _, err := st.GroupID(ctx, "ogid-"+mark, "gid-"+mark); return err },
		func() error {
			return st.Join(ctx, store.Membership{GroupID: "gid-" + mark, MemberID: "mid-" + mark, OpenID: openid, JoinedAt: now, ExpiresAt: later})
		},
		func() error {
			return st.Befriend(ctx, store.Friend{MemberID: "mid-" + mark, OpenID: openid}, store.Friend{MemberID: "fmid-" + mark, OpenID: friend}, now)
		},
		func() error {
			e := eventstore.Event{ID: "ev-" + mark, Name: "e", Start: today, End: today, DailyGoal: 1, GoalDays: 1,
				Organizer: "mid-" + mark, JoinCode: "code-" + mark, ExpiresAt: later}
			if _, err := ev.PutEvent(ctx, e); err != nil {
				return err
			}
			p := eventstore.Participant{EventID: e.ID, MemberID: "fmid-" + mark, OpenID: friend}
			m := store.EventMark{EventID: e.ID, MemberID: p.MemberID, Start: today, End: today, Hide: today, ExpiresAt: later}
			if _, err := ev.AddParticipant(ctx, e, p, m); err != nil {
				return err
			}
			if _, err := ev.SetSlots(ctx, p.MemberID, map[string]string{e.ID: today}, 0); err != nil {
				return err
			}
			gone := eventstore.Participant{EventID: e.ID, MemberID: "mid-" + mark, OpenID: openid}
			if _, err := ev.AddParticipant(ctx, e, gone, store.EventMark{EventID: e.ID, MemberID: gone.MemberID, Start: today, End: today, Hide: today, ExpiresAt: later}); err != nil {
				return err
			}
			_, _, err := ev.RemoveParticipant(ctx, e, gone.MemberID, today, &eventstore.Departure{Removed: true, OpenID: openid})
			return err
		},
		func() error {
			return st.PutInvite(ctx, store.Invite{Code: "inv-" + mark, MemberID: "mid-" + mark, OpenID: openid, ExpiresAt: later})
		},
		func() error {
			for _, set := range []store.Limited{store.MembersOf("gid-" + mark), store.GroupsOf("mid-" + mark), store.FriendsOf("mid-" + mark)} {
				if _, err := st.ResetTally(ctx, set, store.Tally{}, 1, now); err != nil {
					return err
				}
			}
			return nil
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}

	matched := make([]bool, len(rows))
	found := 0
	table := st.Table()
	p := dynamodb.NewScanPaginator(table.DB, &dynamodb.ScanInput{TableName: &table.Name, ConsistentRead: &[]bool{true}[0]})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			pk, sk := ddb.Str(item["PK"]), ddb.Str(item["SK"])
			if !strings.Contains(pk+sk, mark) {
				continue
			}
			found++
			var hits []string
			for i, r := range rows {
				if r.match.MatchString(pk + "\x00" + sk) {
					matched[i] = true
					hits = append(hits, r.pk+" / "+r.sk)
				}
			}
			if len(hits) != 1 {
				t.Errorf("item %s / %s matches %d rows of the data-model table %v, want exactly one", pk, sk, len(hits), hits)
			}
		}
	}
	if found == 0 {
		t.Fatal("the scan found none of the items written")
	}
	for i, r := range rows {
		if !matched[i] && !r.byOperator {
			t.Errorf("the data-model table names %s / %s, which no write of the store made", r.pk, r.sk)
		}
	}
}
