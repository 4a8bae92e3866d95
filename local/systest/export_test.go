package systest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/apigw"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// download is GET path with the caller's token: the status, the headers
// and the raw body.
func (c *client) download(path string) (int, http.Header, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// fetchExport downloads an event's export as the organizer and checks the
// answer's type and file name.
func (c *client) fetchExport(eventID, format, wantType string) []byte {
	c.t.Helper()
	path := "/v1/events/" + eventID + "/export"
	if format != "" {
		path += "?format=" + format
	}
	status, h, body := c.download(path)
	if status != http.StatusOK {
		c.t.Fatalf("GET %s: %d %.300s", path, status, body)
	}
	ext := format
	if ext == "" {
		ext = "csv"
	}
	if got, want := h.Get("Content-Disposition"), `attachment; filename="event-`+eventID+`.`+ext+`"`; got != want {
		c.t.Errorf("Content-Disposition %q, want %q", got, want)
	}
	if got := h.Get("Content-Type"); got != wantType {
		c.t.Errorf("Content-Type %q, want %q", got, wantType)
	}
	return body
}

// exportCSV checks the byte-order mark and that every line ends in CRLF
// (a CR or LF alone only inside a quoted nickname), and parses the rest.
func exportCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	text, ok := strings.CutPrefix(string(body), "\uFEFF")
	if !ok {
		t.Fatalf("no UTF-8 byte-order mark: %q", body[:min(len(body), 16)])
	}
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("not RFC 4180: %v", err)
	}
	if got := strings.Count(text, "\r\n"); got < len(recs) || !strings.HasSuffix(text, "\r\n") {
		t.Fatalf("%d CRLF line ends for %d records", got, len(recs))
	}
	return recs
}

// sheetRows opens an XLSX with excelize and returns its first sheet's
// cells as text, failing on a day, total or goalDays cell that is not
// numeric or a completed cell that is not a boolean.
func sheetRows(t *testing.T, body []byte) [][]string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("not an XLSX: %v", err)
	}
	defer x.Close()
	sheet := x.GetSheetName(0)
	rows, err := x.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for r := 1; r < len(rows); r++ {
		for c := 3; c < len(rows[r]); c++ {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			typ, _ := x.GetCellType(sheet, cell)
			wantBool := c == len(rows[r])-1
			// A cell without a type attribute is a number in OOXML.
			numeric := typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset
			if wantBool && typ != excelize.CellTypeBool || !wantBool && !numeric {
				t.Fatalf("%s (%q) is of type %v", cell, rows[r][c], typ)
			}
		}
	}
	return rows
}

// sameTable compares an XLSX's cells with the CSV's: booleans read TRUE
// and FALSE in a sheet.
func sameTable(t *testing.T, sheet, csv [][]string) {
	t.Helper()
	if len(sheet) != len(csv) {
		t.Fatalf("the sheet has %d rows, the CSV %d", len(sheet), len(csv))
	}
	for r := range csv {
		want := append([]string(nil), csv[r]...)
		if r > 0 {
			want[len(want)-1] = strings.ToUpper(want[len(want)-1])
		}
		if strings.Join(sheet[r], "\x00") != strings.Join(want, "\x00") {
			t.Errorf("sheet row %d %q, CSV %q", r, sheet[r], csv[r])
		}
	}
}

func cstDate(offset int) string {
	return time.Now().In(steps.CST).AddDate(0, 0, offset).Format(time.DateOnly)
}

// TestExportThroughTheFunctions exports a small event through the built
// function: only its organizer may (a participant gets 403, anyone else
// 404); the CSV has the byte-order mark, CRLF, RFC 4180 quoting of quotes,
// commas and line breaks in nicknames, the formula guard on nicknames and
// team names, credited (capped) days; the XLSX opened with excelize holds
// the same cells, numbers numeric.
func TestExportThroughTheFunctions(t *testing.T) {
	st := localStack(t, "export")
	org := newClient(t, st.API, st.Sim, "org")
	a := newClient(t, st.API, st.Sim, "a")
	b := newClient(t, st.API, st.Sim, "b")
	stranger := newClient(t, st.API, st.Sim, "s")
	a.must(http.StatusOK, "PUT", "/v1/me/profile", map[string]string{"nickname": `Li, "Lee"`}, nil)
	b.must(http.StatusOK, "PUT", "/v1/me/profile", map[string]string{"nickname": "+86 Bo"}, nil)
	var ev struct {
		EventID, JoinCode string
	}
	org.must(http.StatusCreated, "POST", "/v1/events", map[string]any{"name": "导出", "startDate": cstDate(-2), "endDate": cstDate(5),
		"dailyGoal": 10000, "dailyCap": 20000, "goalDays": 1, "teams": []string{"=1+2", "研发"}}, &ev)
	a.must(http.StatusOK, "POST", "/v1/events/join", map[string]any{"joinCode": ev.JoinCode, "teamId": "t002", "consent": true}, nil)
	b.must(http.StatusOK, "POST", "/v1/events/join", map[string]any{"joinCode": ev.JoinCode, "teamId": "t001", "consent": true}, nil)
	a.walk(9999)
	b.walk(25000) // capped at 20000

	for _, c := range []struct {
		name string
		who  *client
		path string
		want int
		code string
	}{
		{"a participant", a, "/v1/events/" + ev.EventID + "/export", http.StatusForbidden, "NOT_ORGANIZER"},
		{"anyone else", stranger, "/v1/events/" + ev.EventID + "/export", http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"an unknown event", org, "/v1/events/" + strings.Repeat("A", 22) + "/export", http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"a malformed id", org, "/v1/events/x/export", http.StatusNotFound, "EVENT_NOT_FOUND"},
		{"an unknown format", org, "/v1/events/" + ev.EventID + "/export?format=pdf", http.StatusBadRequest, "INVALID_FIELD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := c.who.download(c.path)
			var env struct{ Error struct{ Code string } }
			_ = json.Unmarshal(body, &env)
			if status != c.want || env.Error.Code != c.code {
				t.Errorf("%d %s, want %d %s", status, body, c.want, c.code)
			}
		})
	}

	var aMe, bMe struct{ MemberID string }
	a.must(http.StatusOK, "GET", "/v1/me/profile", nil, &aMe)
	b.must(http.StatusOK, "GET", "/v1/me/profile", nil, &bMe)
	want := [][]string{
		{"memberId", "nickname", "team", cstDate(-2), cstDate(-1), cstDate(0), "total", "goalDays", "completed"},
		{bMe.MemberID, "'+86 Bo", "'=1+2", "0", "20000", "0", "20000", "1", "true"},
		{aMe.MemberID, `Li, "Lee"`, "研发", "0", "9999", "0", "9999", "0", "false"},
	}
	got := exportCSV(t, org.fetchExport(ev.EventID, "", "text/csv; charset=utf-8"))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CSV\n got %q\nwant %q", got, want)
	}
	sameTable(t, sheetRows(t, org.fetchExport(ev.EventID, "xlsx", xlsxType)), got)

	// The users' own data: a participant's export holds their credited days
	// of the event, the organizer's the settings and nobody's rows.
	var mine struct {
		Events struct {
			Participating []struct {
				Event struct{ EventID string }
				Days  []struct {
					Date  string
					Steps int64
				}
				Total int64
			}
			Organizing []struct{ EventID, Name string }
		}
	}
	b.must(http.StatusOK, "GET", "/v1/me/export", nil, &mine)
	if p := mine.Events.Participating; len(p) != 1 || p[0].Event.EventID != ev.EventID || p[0].Total != 20000 ||
		fmt.Sprint(p[0].Days) != fmt.Sprintf("[{%s 0} {%s 20000} {%s 0}]", cstDate(-2), cstDate(-1), cstDate(0)) {
		t.Errorf("b's events: %+v", mine.Events)
	}
	raw := org.must(http.StatusOK, "GET", "/v1/me/export", nil, &mine)
	if o := mine.Events.Organizing; len(o) != 1 || o[0].EventID != ev.EventID || o[0].Name != "导出" || len(mine.Events.Participating) != 0 ||
		strings.Contains(raw, aMe.MemberID) || strings.Contains(raw, bMe.MemberID) {
		t.Errorf("the organizer's events: %s", raw)
	}

	// A nickname stored before today's rules, with line breaks and a tab,
	// is quoted and guarded like any other.
	env := services.ForTests(t, services.Need{DynamoDB: true})
	users := store.New(services.Client(env.DynamoDB), env.Table)
	if err := users.PutProfile(context.Background(), store.Profile{MemberID: aMe.MemberID, OpenID: a.openid, Nickname: "\tLi\r\nLee\n"}); err != nil {
		t.Fatal(err)
	}
	got = exportCSV(t, org.fetchExport(ev.EventID, "csv", "text/csv; charset=utf-8"))
	// encoding/csv reads a quoted CRLF back as LF.
	if len(got) != 3 || got[2][1] != "'\tLi\nLee\n" {
		t.Errorf("the stored nickname came back as %q", got)
	}
}

// worstCase is the largest event the limits allow: 5,000 participants in
// 100 teams of 16-character names, 100 counted days, 32-emoji nicknames,
// every day's count from 0 to 100,000 (so numbers of every length, and
// the XLSX compresses no better than real data).
const (
	worstParticipants = 5000
	worstDays         = 100
	worstTeams        = 100
)

// TestTheWorstCaseExportFitsOneAnswer seeds the worst case through the
// stores (the event started 99 days ago, which no create allows), then
// exports it through the built function in both formats: both succeed,
// with every row, within Lambda's response limit. How long it takes is
// make bench's business; here the function's own timeout is the bound.
func TestTheWorstCaseExportFitsOneAnswer(t *testing.T) {
	st := localStack(t, "export-worst")
	org := newClient(t, st.API, st.Sim, "org")
	env := services.ForTests(t, services.Need{DynamoDB: true})
	users := store.New(services.Client(env.DynamoDB), env.Table)
	evs := eventstore.New(users.Table())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	mid, err := users.MemberID(ctx, org.openid, crypto.NewID())
	if err != nil {
		t.Fatal(err)
	}
	e := eventstore.Event{ID: crypto.NewID(), Name: strings.Repeat("走", 32), Start: cstDate(-worstDays + 1), End: cstDate(0),
		DailyGoal: 10000, GoalDays: 60, Organizer: mid, JoinCode: "W" + crypto.NewID()[:9],
		Participants: worstParticipants, ExpiresAt: time.Now().AddDate(0, 0, 30)}
	for i := range worstTeams {
		e.Teams = append(e.Teams, eventstore.Team{ID: fmt.Sprintf("t%03d", i+1), Name: strings.Repeat("部", 15) + strconv.Itoa(i%10)})
	}
	if ok, err := evs.PutEvent(ctx, e); err != nil || !ok {
		t.Fatalf("PutEvent: %v %v", ok, err)
	}
	start := time.Now()
	seedParticipants(t, users, evs, e, worstParticipants)
	t.Logf("seeded %d participants x %d days in %v", worstParticipants, worstDays, time.Since(start).Round(time.Second))

	for _, format := range []string{"csv", "xlsx"} {
		start := time.Now()
		wantType := "text/csv; charset=utf-8"
		if format == "xlsx" {
			wantType = xlsxType
		}
		body := org.fetchExport(e.ID, format, wantType)
		took := time.Since(start)
		// What the function's answer weighs as the runtime sends it: the
		// body as a JSON string (CSV) or in base64 (XLSX), and a margin for
		// the headers and the envelope's other fields.
		var rows [][]string
		payload := 512
		if format == "csv" {
			rows = exportCSV(t, body)
			enc, _ := json.Marshal(string(body))
			payload += len(enc)
		} else {
			rows = sheetRows(t, body)
			payload += base64.StdEncoding.EncodedLen(len(body))
		}
		t.Logf("%s: %d bytes, a %d-byte answer of Lambda's %d, in %v", format, len(body), payload, apigw.MaxInvokePayload, took.Round(time.Millisecond))
		if payload > apigw.MaxInvokePayload {
			t.Errorf("%s: a %d-byte answer is over Lambda's limit", format, payload)
		}
		if len(rows) != worstParticipants+1 || len(rows[0]) != worstDays+6 {
			t.Fatalf("%s: %d rows of %d cells, want %d of %d", format, len(rows), len(rows[0]), worstParticipants+1, worstDays+6)
		}
		for _, row := range rows[1:] {
			var sum int64
			for _, cell := range row[3 : 3+worstDays] {
				n, _ := strconv.ParseInt(cell, 10, 64)
				sum += n
			}
			if strconv.FormatInt(sum, 10) != row[3+worstDays] || len([]rune(row[1])) != 32 {
				t.Fatalf("%s: row %.80q: total %s, its days sum to %d", format, row, row[3+worstDays], sum)
			}
		}
	}
}

// seedParticipants writes n participants of the worst case into e, 16 at
// a time.
func seedParticipants(t *testing.T, users *store.DynamoStore, evs *eventstore.Store, e eventstore.Event, n int) {
	t.Helper()
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error { return seedParticipant(ctx, users, evs, e, i) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// seedParticipant writes participant i of the worst case: their memberId,
// a 32-emoji nickname, the participant item with its mark and index, and
// worstDays days.
func seedParticipant(ctx context.Context, users *store.DynamoStore, evs *eventstore.Store, e eventstore.Event, i int) error {
	openid := fmt.Sprintf("worst-%s-%04d", e.ID[:8], i)
	mid, err := users.MemberID(ctx, openid, crypto.NewID())
	if err != nil {
		return err
	}
	nickname := strings.Repeat(string(rune(0x1F600+i%64)), 32)
	if err := users.PutProfile(ctx, store.Profile{MemberID: mid, OpenID: openid, Nickname: nickname}); err != nil {
		return err
	}
	p := eventstore.Participant{EventID: e.ID, MemberID: mid, OpenID: openid, TeamID: e.Teams[i%worstTeams].ID}
	m := store.EventMark{EventID: e.ID, MemberID: mid, Start: e.Start, End: e.End, DailyGoal: e.DailyGoal, Hide: e.End, ExpiresAt: e.ExpiresAt}
	if _, err := evs.AddParticipant(ctx, e, p, m); err != nil {
		return err
	}
	days := make([]store.Day, worstDays)
	for d := range days {
		date := cstDate(-d)
		at, _ := time.ParseInLocation(time.DateOnly, date, steps.CST)
		// Stamped at the day's end, so the per-minute rule allows any count.
		days[d] = store.Day{Date: date, Steps: int64((i*7919 + d*104729) % 100001), SourceTS: at.Add(23 * time.Hour).Unix(), Source: "decrypt"}
	}
	_, err = users.WriteDays(ctx, openid, days)
	return err
}
