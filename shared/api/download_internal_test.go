package api

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/werun-sam/werun-sam/shared/fault"
)

// A download is sent as text or base64 with its name and type, and one
// whose payload would pass Lambda's limit is refused by its class, never
// left to the runtime's bare error.
func TestADownloadIsSentWholeOrRefusedByItsSize(t *testing.T) {
	// CRLF doubles in JSON ("\r\n" as \r\n), so a text body under the limit
	// can make a payload over it.
	nearLimit := strings.Repeat("a\r\n", MaxResponse/3-100)
	tests := []struct {
		name       string
		f          download
		wantBody   string
		wantBase64 bool
		wantErr    error
	}{
		{"text as is", download{name: "event-x.csv", contentType: "text/csv; charset=utf-8", body: []byte("\uFEFFa,b\r\n"), text: true}, "\uFEFFa,b\r\n", false, nil},
		{"binary in base64", download{name: "event-x.xlsx", contentType: "application/zip", body: []byte{0x50, 0x4b, 0, 0xff}}, base64.StdEncoding.EncodeToString([]byte{0x50, 0x4b, 0, 0xff}), true, nil},
		{"text whose escapes pass the limit", download{name: "event-x.csv", contentType: "text/csv", body: []byte(nearLimit), text: true}, "", false, fault.ExportTooLarge},
		{"binary whose base64 passes the limit", download{name: "event-x.xlsx", contentType: "application/zip", body: make([]byte, MaxResponse*3/4+1)}, "", true, fault.ExportTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.f.response()
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Body != tc.wantBody || resp.IsBase64Encoded != tc.wantBase64 {
				t.Errorf("got %d %q base64=%v, want 200 %q base64=%v", resp.StatusCode, resp.Body, resp.IsBase64Encoded, tc.wantBody, tc.wantBase64)
			}
			if got, want := resp.Headers["Content-Disposition"], `attachment; filename="`+tc.f.name+`"`; got != want {
				t.Errorf("Content-Disposition %q, want %q", got, want)
			}
			if resp.Headers["Content-Type"] != tc.f.contentType {
				t.Errorf("Content-Type %q, want %q", resp.Headers["Content-Type"], tc.f.contentType)
			}
		})
	}
}
