package wechattest

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// The control API's fault switches: Fail and Delay over HTTP, so a test
// in another language (the mini program client's) can provoke each path.
const (
	PathControlFail  = "/_sim/fail"
	PathControlDelay = "/_sim/delay"
)

// controlPaths are the paths Fail and Delay accept over HTTP.
var controlPaths = map[string]bool{PathCode2Session: true, PathStableToken: true, PathGetOpenData: true}

// controlFail serves POST /_sim/fail {"path","errcode","times"}: Fail.
// times 0 clears the path's fault.
func (s *Sim) controlFail(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Path    string `json:"path"`
		Errcode int    `json:"errcode"`
		Times   int    `json:"times"`
	}
	if !decodeFault(w, r, &req, &req.Path) {
		return
	}
	s.Fail(req.Path, req.Errcode, req.Times)
	writeJSON(w, http.StatusOK, map[string]any{"path": req.Path, "errcode": req.Errcode, "times": max(req.Times, 0)})
}

// controlDelay serves POST /_sim/delay {"path","ms"}: Delay. ms 0 clears.
func (s *Sim) controlDelay(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Path string `json:"path"`
		MS   int64  `json:"ms"`
	}
	if !decodeFault(w, r, &req, &req.Path) {
		return
	}
	s.Delay(req.Path, time.Duration(req.MS)*time.Millisecond)
	writeJSON(w, http.StatusOK, map[string]any{"path": req.Path, "ms": max(req.MS, 0)})
}

// decodeFault reads a fault switch: POST, JSON, naming one of WeChat's paths.
func decodeFault(w http.ResponseWriter, r *http.Request, v any, path *string) bool {
	if r.Method != http.MethodPost {
		controlError(w, http.StatusMethodNotAllowed, "use POST with a JSON body")
		return false
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(v); err != nil {
		controlError(w, http.StatusBadRequest, "body must be JSON: "+err.Error())
		return false
	}
	if !controlPaths[*path] {
		controlError(w, http.StatusBadRequest, `"path" must be one of `+PathCode2Session+", "+PathStableToken+", "+PathGetOpenData)
		return false
	}
	return true
}
