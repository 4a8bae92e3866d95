package samlocal

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/werun-sam/werun-sam/internal/template"
)

// What `make sam-local` needs from Debian, installed when missing:
// the engine, and arm64 emulation for the functions' bootstraps.
var dockerPackages = []string{"docker.io"}
var emulationPackages = []string{"qemu-user-static", "binfmt-support"}

const (
	binfmtDir   = "/proc/sys/fs/binfmt_misc"
	binfmtArm64 = binfmtDir + "/qemu-aarch64"
	// dockerdLog is outside the repository: the engine outlives the run.
	dockerdLog = "/var/log/werun-sam-dockerd.log"
)

// ensureDocker makes a Docker engine answer that can run the template's
// arm64 bootstraps: Debian's docker.io and qemu-user-static are installed
// when missing, binfmt_misc is mounted, qemu-aarch64 registered, and
// dockerd started when none answers.
//
// A dockerd started here is left running, as systemd would keep the
// service: stopping it would pull the engine from under anything else on
// the machine that found it answering (another make sam-local among them).
func ensureDocker(ctx context.Context, lambdaArch string) error {
	emulate := lambdaArch != hostLambdaArch()
	var missing []string
	if !hasCommand("dockerd") || !hasCommand("docker") {
		missing = append(missing, dockerPackages...)
	}
	if emulate && (!exists("/usr/bin/qemu-aarch64-static") || !hasCommand("update-binfmts")) {
		missing = append(missing, emulationPackages...)
	}
	if len(missing) > 0 {
		if err := aptInstall(ctx, missing); err != nil {
			return err
		}
	}
	if emulate {
		if err := ensureBinfmt(ctx); err != nil {
			return err
		}
	}
	if dockerAnswers(ctx) {
		return nil
	}
	return startDockerd(ctx)
}

// hostLambdaArch is this machine's architecture in Lambda's words.
func hostLambdaArch() string {
	if runtime.GOARCH == "amd64" {
		return "x86_64"
	}
	return runtime.GOARCH
}

// exists says whether a file is there.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func hasCommand(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// aptInstall installs Debian packages, as root, after `apt-get update`.
func aptInstall(ctx context.Context, pkgs []string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("sam-local: %s missing; install them as root (apt-get install %s) or run as root",
			strings.Join(pkgs, ", "), strings.Join(pkgs, " "))
	}
	fmt.Fprintf(os.Stderr, "sam-local: installing %s (apt-get)\n", strings.Join(pkgs, " "))
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	// Another apt on the machine may hold the lock for a while: wait for it.
	apt := []string{"-q", "-o", "DPkg::Lock::Timeout=600"}
	for _, args := range [][]string{
		append(apt, "update"),
		append(append(apt, "-y", "install", "--no-install-recommends"), pkgs...),
	} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

// ensureBinfmt registers qemu-aarch64 with the kernel, with the F flag
// (the interpreter is opened at registration), so arm64 binaries run in
// any container without qemu inside it.
func ensureBinfmt(ctx context.Context) error {
	if !exists(binfmtDir + "/register") {
		if out, err := exec.CommandContext(ctx, "mount", "-t", "binfmt_misc", "binfmt_misc", binfmtDir).CombinedOutput(); err != nil {
			return fmt.Errorf("mount binfmt_misc: %w\n%s", err, out)
		}
	}
	if !exists(binfmtArm64) {
		if out, err := exec.CommandContext(ctx, "update-binfmts", "--enable", "qemu-aarch64").CombinedOutput(); err != nil {
			return fmt.Errorf("update-binfmts --enable qemu-aarch64: %w\n%s", err, out)
		}
	}
	b, err := os.ReadFile(binfmtArm64)
	if err != nil {
		return fmt.Errorf("arm64 emulation: %w", err)
	}
	s := string(b)
	if !strings.HasPrefix(s, "enabled") {
		return fmt.Errorf("arm64 emulation is registered but disabled (%s): update-binfmts --enable qemu-aarch64", binfmtArm64)
	}
	for _, line := range strings.Split(s, "\n") {
		if flags, ok := strings.CutPrefix(line, "flags: "); ok && !strings.Contains(flags, "F") {
			return fmt.Errorf("arm64 emulation lacks the F flag (%s): containers cannot reach the interpreter", binfmtArm64)
		}
	}
	return nil
}

// docker runs the docker CLI; the error carries its output.
func docker(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("docker %s: %w\n%s", args[0], err, errb.Bytes())
	}
	return out.Bytes(), nil
}

func dockerAnswers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := docker(ctx, nil, "info", "--format", "{{.ServerVersion}}")
	return err == nil
}

// startDockerd starts the engine in its own session and waits until it
// answers.
func startDockerd(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return errors.New("sam-local: no Docker engine answers and only root can start dockerd")
	}
	for pidFile, name := range map[string]string{
		"/var/run/docker.pid":                       "dockerd",
		"/var/run/docker/containerd/containerd.pid": "containerd",
	} {
		removeStalePidFile(pidFile, name)
	}
	logf, err := os.OpenFile(dockerdLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("dockerd")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start dockerd: %w", err)
	}
	fmt.Fprintf(os.Stderr, "sam-local: started dockerd (pid %d, log %s); it stays running\n", cmd.Process.Pid, dockerdLog)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for !dockerAnswers(ctx) {
		select {
		case err := <-exited:
			return fmt.Errorf("dockerd exited (%v): see %s", err, dockerdLog)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd not answering after 60s: see %s", dockerdLog)
		}
	}
	return nil
}

// removeStalePidFile removes a pid file whose process is gone. A dockerd
// ended with SIGKILL leaves its pid file, and where nothing reaps it a
// zombie under that pid: a new dockerd then refuses to start ("pid file
// found"), and would wait for a containerd that is not there.
func removeStalePidFile(path, name string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err == nil && processAlive(pid, name) {
		return
	}
	_ = os.Remove(path)
}

// processAlive says whether pid is a running (not zombie) process named name.
func processAlive(pid int, name string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "pid (comm) state ...": comm may hold spaces, so split at the last ')'.
	s := string(stat)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || len(s) < end+3 {
		return false
	}
	return s[open+1:end] == name && s[end+2] != 'Z'
}

// bridgeAddress is the host's address on Docker's default bridge
// (docker0, usually 172.17.0.1): the one address of the host that
// containers reach and that the outside does not.
func bridgeAddress(ctx context.Context) (string, error) {
	out, err := docker(ctx, nil, "network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}")
	if err != nil {
		return "", err
	}
	for _, f := range strings.Fields(string(out)) {
		if ip := net.ParseIP(f); ip != nil && ip.To4() != nil {
			return ip.String(), nil
		}
	}
	iface, err := net.InterfaceByName("docker0")
	if err != nil {
		return "", fmt.Errorf("docker's bridge has no gateway address: %w", err)
	}
	addrs, _ := iface.Addrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", errors.New("docker0 has no IPv4 address")
}

// lambdaRuntime is the template's Globals Runtime and architecture, the
// two things that name the image SAM runs.
func lambdaRuntime(t *template.Template) (rt, arch string, err error) {
	f := t.Globals.Function
	if f.Runtime == "" || len(f.Architectures) != 1 {
		return "", "", fmt.Errorf("%s: Globals.Function needs Runtime and one Architecture", template.File)
	}
	return f.Runtime, f.Architectures[0], nil
}

// samImageTagsPy prints the base and the "rapid" image names SAM CLI uses
// for a runtime and architecture, computed by SAM's own code
// (samcli/local/docker/lambda_image.py), so a SAM upgrade cannot leave them
// stale.
const samImageTagsPy = `
import re, sys
from samcli.local.docker.lambda_image import LambdaImage, Runtime, RAPID_IMAGE_TAG_PREFIX
rt, arch = sys.argv[1], sys.argv[2]
tag = Runtime.get_image_name_tag(rt, arch)
base = LambdaImage._INVOKE_REPO_PREFIX + "/" + tag
prefix = re.split("[:-]", tag)[1] + "-"
print(base)
print(base.split(":")[0] + ":" + prefix + RAPID_IMAGE_TAG_PREFIX + "-" + arch)
`

// samImageTags asks the pinned SAM CLI for its image names.
func samImageTags(ctx context.Context, sam, rt, arch string) (base, rapid string, err error) {
	out, err := exec.CommandContext(ctx, filepath.Join(filepath.Dir(sam), "python"), "-c", samImageTagsPy, rt, arch).CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("SAM's image names: %w\n%s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 {
		return "", "", fmt.Errorf("SAM's image names: unexpected %q", out)
	}
	return lines[0], lines[1], nil
}

// samRIE is the Runtime Interface Emulator SAM ships for this host's
// architecture. The rapid image runs it natively: the arm64 one, under
// qemu, starts too slowly for SAM's quick connection attempts, and only
// the function's bootstrap needs to be arm64.
func samRIE(ctx context.Context, sam string) (string, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(filepath.Dir(sam), "python"), "-c",
		"import samcli.local.docker.lambda_image as m; print(m.LambdaImage._RAPID_SOURCE_PATH)").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("SAM's emulators: %w\n%s", err, out)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "aws-lambda-rie-"+hostLambdaArch())
	if !exists(p) {
		return "", fmt.Errorf("SAM ships no emulator for %s (%s)", hostLambdaArch(), p)
	}
	return p, nil
}

// standInFS is the file tree of the stand-in runtime image: the folders
// the Lambda runtime contract names and nothing else. It is not Amazon
// Linux 2023: a static Go bootstrap (CGO_ENABLED=0, built-in TLS and time
// zone code, no dynamic loader) needs no libc, shell or package of the OS;
// only HTTPS to real AWS would want CA certificates, and the local runs
// speak plain HTTP to the host. rie, when given, goes to /var/rapid as SAM
// puts it.
func standInFS(rie []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	for _, d := range []string{"etc/", "opt/", "tmp/", "usr/", "usr/local/", "usr/local/bin/", "var/", "var/runtime/", "var/task/", "var/rapid/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	// SAM mounts the built function at /var/task; the handler name
	// `bootstrap` resolves on PATH too.
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "usr/local/bin/bootstrap", Linkname: "/var/task/bootstrap", Mode: 0o777, ModTime: epoch}); err != nil {
		return nil, err
	}
	if rie != nil {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "var/rapid/aws-lambda-rie", Mode: 0o755, Size: int64(len(rie)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(rie); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// imageChanges are the Dockerfile lines of the stand-in image, as the
// real base image sets them.
var imageChanges = []string{
	"ENV PATH=/usr/local/bin:/usr/bin:/bin:/opt/bin",
	"ENV LAMBDA_TASK_ROOT=/var/task",
	"ENV LAMBDA_RUNTIME_DIR=/var/runtime",
	"ENV LANG=en_US.UTF-8",
	"ENV TZ=:/etc/localtime",
	"WORKDIR /var/task",
}

// imageLabel marks a stand-in image with the hash of what it was made
// from, so a rerun imports only what changed.
const imageLabel = "werun-sam.stand-in"

// ensureSAMImages makes the two images SAM looks for, locally and from
// scratch (nothing is pulled): the base image, and the rapid image SAM
// would otherwise build FROM it with the emulator added. With both
// present, `sam local ... --skip-pull-image` uses them as they are.
func ensureSAMImages(ctx context.Context, sam, rt, arch string) error {
	base, rapid, err := samImageTags(ctx, sam, rt, arch)
	if err != nil {
		return err
	}
	riePath, err := samRIE(ctx, sam)
	if err != nil {
		return err
	}
	rie, err := os.ReadFile(riePath)
	if err != nil {
		return err
	}
	for _, img := range []struct {
		tag string
		rie []byte
	}{{base, nil}, {rapid, rie}} {
		fs, err := standInFS(img.rie)
		if err != nil {
			return err
		}
		if err := importImage(ctx, img.tag, fs); err != nil {
			return err
		}
	}
	return nil
}

// importImage imports a file tree as tag unless tag already holds it.
func importImage(ctx context.Context, tag string, fs []byte) error {
	h := sha256.New()
	h.Write(fs)
	h.Write([]byte(strings.Join(imageChanges, "\n")))
	sum := hex.EncodeToString(h.Sum(nil))
	var old string
	if out, err := docker(ctx, nil, "image", "inspect", "--format", "{{.ID}} {{index .Config.Labels \""+imageLabel+"\"}}", tag); err == nil {
		f := strings.Fields(string(out))
		if len(f) == 2 && f[1] == sum {
			return nil
		}
		if len(f) > 0 {
			old = f[0]
		}
	}
	args := []string{"import"}
	for _, c := range append(imageChanges, "LABEL "+imageLabel+"="+sum) {
		args = append(args, "--change", c)
	}
	if _, err := docker(ctx, bytes.NewReader(fs), append(args, "-", tag)...); err != nil {
		return err
	}
	if old != "" {
		// The replaced image, now untagged; kept if a container still uses it.
		_, _ = docker(ctx, nil, "rmi", old)
	}
	fmt.Fprintf(os.Stderr, "sam-local: image %s made locally (stand-in, %d KiB)\n", tag, len(fs)/1024)
	return nil
}
