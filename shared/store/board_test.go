package store

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestDaysReadsInclusiveRangeOfOneUser(t *testing.T) {
	st, ctx := newTestStore(t)
	openid := uniqueID("days")
	mustWrite(t, ctx, st, openid,
		Day{Date: "2025-01-31", Steps: 1}, Day{Date: "2025-02-01", Steps: 2},
		Day{Date: "2025-02-10", Steps: 3}, Day{Date: "2025-02-11", Steps: 4})
	mustWrite(t, ctx, st, openid+"x", Day{Date: "2025-02-05", Steps: 9})
	if err := st.AddSessionKey(ctx, openid, SessionKey{Key: "k"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ from, to, want string }{
		{"2025-02-01", "2025-02-10", "2025-02-01=2 2025-02-10=3"},
		{"2025-01-01", "2025-12-31", "2025-01-31=1 2025-02-01=2 2025-02-10=3 2025-02-11=4"},
		{"2025-03-01", "2025-03-31", ""},
	}
	for _, tt := range tests {
		days, err := st.Days(ctx, openid, tt.from, tt.to)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range days {
			got = append(got, fmt.Sprintf("%s=%d", d.Date, d.Steps))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("Days(%s..%s) = %v, want %s", tt.from, tt.to, got, tt.want)
		}
		if days == nil {
			t.Errorf("Days(%s..%s) = nil, want an empty list", tt.from, tt.to)
		}
	}
}

func TestBoardPagesReadOnlyDaysThatCarryTheBoard(t *testing.T) {
	st, ctx := newTestStore(t)
	board := uniqueID("2025-02-01#03")
	want := map[string]int64{}
	for i := 0; i < 5; i++ {
		openid := uniqueID("board")
		want[openid] = int64(1000 * i)
		mustWrite(t, ctx, st, openid,
			Day{Date: "2025-02-01", Steps: int64(1000 * i), Board: board},
			Day{Date: "2025-01-31", Steps: 7}) // no board: stays out of the index
	}
	got := map[string]int64{}
	cursor, pages := "", 0
	for {
		entries, next, err := st.BoardPage(ctx, board, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			got[e.OpenID] = e.Steps
		}
		pages++
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(want)) {
		t.Errorf("board = %v, want %v", got, want)
	}
	if _, _, err := st.BoardPage(ctx, board, "not-a-cursor"); err == nil {
		t.Error("a malformed cursor was accepted")
	}
}

func sorted(m map[string]int64) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(out)
	return out
}

func TestSnapshotRoundTrips(t *testing.T) {
	st, ctx := newTestStore(t)
	appid := uniqueID("app")
	if _, found, err := st.GetSnapshot(ctx, appid, "BOARD#2025-02-01"); err != nil || found {
		t.Fatalf("absent snapshot: found=%v err=%v", found, err)
	}
	for _, doc := range []string{`{"v":1}`, `{"v":2}`} {
		if err := st.PutSnapshot(ctx, appid, "BOARD#2025-02-01", []byte(doc), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, found, err := st.GetSnapshot(ctx, appid, "BOARD#2025-02-01")
		if err != nil || !found || string(got) != doc {
			t.Fatalf("snapshot = %q found=%v err=%v, want %q", got, found, err, doc)
		}
	}
}
