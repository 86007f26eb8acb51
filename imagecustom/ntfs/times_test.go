package ntfs

import (
	"context"
	"testing"
	"time"
)

func TestSetTimes(t *testing.T) {
	v, f := openCopy(t, "ntfs/tiny.raw", nil)
	if err := v.WriteFile("stamped.txt", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	want := Times{
		Created:  time.Date(2008, 4, 14, 12, 0, 0, 100, time.UTC),
		Modified: time.Date(2009, 5, 1, 1, 2, 3, 400, time.UTC),
		Changed:  time.Date(2010, 6, 2, 4, 5, 6, 0, time.UTC),
	}
	before, err := v.Stat("stamped.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetTimes("stamped.txt", want); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	v2, err := Open(f, v.size)
	if err != nil {
		t.Fatal(err)
	}
	st, err := v2.Stat("stamped.txt")
	if err != nil {
		t.Fatal(err)
	}
	fs := st.Sys().(*FileStat)
	acc := before.Sys().(*FileStat).Accessed // a zero field keeps its stamp
	if !fs.Created.Equal(want.Created) || !fs.Modified.Equal(want.Modified) || !fs.Changed.Equal(want.Changed) || !fs.Accessed.Equal(acc) {
		t.Errorf("times %v %v %v %v, want %+v and accessed %v", fs.Created, fs.Modified, fs.Changed, fs.Accessed, want, acc)
	}
	if problems, err := Check(context.Background(), v2, nil); err != nil || len(problems) > 0 {
		t.Errorf("Check: %v %v", err, problems)
	}
	if err := v2.SetTimes("stamped.txt", want); err == nil {
		t.Error("SetTimes on a read-only volume succeeded")
	}
}
