package boothook

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const sampleLog = "boothook 1 start image=\\??\\D:\\My Windows\\System32\\autochk.exe actions=2\r\n" +
	"action 1 run 0xc0000034 exit=0x00000000 \\Windows\\tool one.exe\r\n" +
	"action 2 say 0x00000000 hi\r\n" +
	"undo chain 0x00000102 exit=0x00000000\r\n" +
	"undo bootexecute 0x00000000 removed=1\r\n" +
	"boothook end\r\n" +
	"boothook 1 start image=\\??\\D:\\W\\System32\\autochk.exe data=malformed at=12\r\n" +
	"garbled\r\n"

func TestParseLog(t *testing.T) {
	got, err := ParseLog(strings.NewReader(sampleLog))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(sampleLog, "\r\n"), "\r\n")
	want := []LogEntry{
		{Kind: "start", OK: true, Fields: map[string]string{"image": `\??\D:\My Windows\System32\autochk.exe`, "actions": "2"}},
		{Kind: "action", Index: 1, Step: "run", Status: "0xc0000034", Target: `\Windows\tool one.exe`, Fields: map[string]string{"exit": "0x00000000"}},
		{Kind: "action", Index: 2, Step: "say", Status: "0x00000000", OK: true, Target: "hi"},
		{Kind: "undo", Step: "chain", Status: "0x00000102", OK: true, Fields: map[string]string{"exit": "0x00000000"}},
		{Kind: "undo", Step: "bootexecute", Status: "0x00000000", OK: true, Fields: map[string]string{"removed": "1"}},
		{Kind: "end", OK: true},
		{Kind: "start", Fields: map[string]string{"image": `\??\D:\W\System32\autochk.exe`, "data": "malformed", "at": "12"}},
		{Kind: "text"},
	}
	for i := range want {
		want[i].Line = lines[i]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseLog(bytes.NewReader(make([]byte, MaxLogSize+1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge log: %v", err)
	}
	if got, err := ParseLog(strings.NewReader("")); err != nil || got != nil {
		t.Errorf("empty log: %v, %v", got, err)
	}
}

func FuzzParseLog(f *testing.F) {
	f.Add([]byte(sampleLog))
	f.Add([]byte("action 1 x 0x0000000g\nundo a 0x00000000 =\nboothook 1 start x y=\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		es, err := ParseLog(bytes.NewReader(in))
		if err != nil {
			return
		}
		for _, e := range es {
			if strings.ContainsAny(e.Line, "\n") {
				t.Fatalf("line with a newline: %q", e.Line)
			}
		}
	})
}
