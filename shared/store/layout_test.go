package store

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/shared/store/ddb"
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
	raw, err := os.ReadFile("../../docs/DESIGN.md")
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

// The table in docs/DESIGN.md and the keys the store builds agree both ways:
// one write of each kind lands items that each match exactly one row, and
// every row but the operator's is matched by some item written.
func TestTheDataModelTableNamesEveryItemTheStoreWrites(t *testing.T) {
	rows := designLayout(t)
	st, ctx := newTestStore(t)
	mark := uniqueID("layout")
	openid, friend, app := "o-"+mark, "o-friend-"+mark, "wx"+mark
	now := time.Now()
	later := now.Add(time.Hour)
	today := now.Format(time.DateOnly)
	mustWrite(t, ctx, st, openid, Day{Date: today, Steps: 100, Board: today + "#00", ExpiresAt: later})
	steps := []func() error{
		func() error { return st.AddSessionKey(ctx, openid, SessionKey{Key: "k-" + mark, IssuedAt: now}) },
		func() error { _, err := st.Account(ctx, openid, "acct-"+mark); return err },
		func() error { return st.Revoke(ctx, "acct-"+mark, later, false) },
		func() error {
			return st.PutDeletion(ctx, Deletion{Account: "acct-" + mark, OpenID: openid, Due: now, Until: later})
		},
		func() error {
			return st.PutRedeemedCode(ctx, "hash-"+mark, RedeemedCode{OpenID: openid, SessionKey: "k", ExpiresAt: later})
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
			return st.PutProfile(ctx, Profile{MemberID: "mid-" + mark, OpenID: openid, Nickname: "n"})
		},
		func() error { _, err := st.GroupID(ctx, "ogid-"+mark, "gid-"+mark); return err },
		func() error {
			return st.Join(ctx, Membership{GroupID: "gid-" + mark, MemberID: "mid-" + mark, OpenID: openid, JoinedAt: now, ExpiresAt: later})
		},
		func() error {
			return st.Befriend(ctx, Friend{MemberID: "mid-" + mark, OpenID: openid}, Friend{MemberID: "fmid-" + mark, OpenID: friend}, now)
		},
		func() error {
			return st.PutInvite(ctx, Invite{Code: "inv-" + mark, MemberID: "mid-" + mark, OpenID: openid, ExpiresAt: later})
		},
		func() error {
			for _, set := range []Limited{MembersOf("gid-" + mark), GroupsOf("mid-" + mark), FriendsOf("mid-" + mark)} {
				if _, err := st.ResetTally(ctx, set, Tally{}, 1, now); err != nil {
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
	p := dynamodb.NewScanPaginator(st.t.DB, &dynamodb.ScanInput{TableName: &st.t.Name, ConsistentRead: &[]bool{true}[0]})
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
