// Package boothook is our own native boot hook: a small NT native-subsystem
// program (C, ntdll.dll only, no C runtime) that the image layer installs in
// place of autochk.exe or on a BootExecute line, and the Go side of it: the
// action-list text parser ([Parse]), the binary data file the hook reads at
// boot ([Encode], [Decode]) and the prebuilt PEs ([PE]).
//
// # Action list
//
// One action per line; fields separated by spaces or tabs; `#` outside
// quotes starts a comment; a field holding spaces or `#` goes in double
// quotes, with `\"` and `\\` inside:
//
//	reg-set    KEY NAME TYPE DATA...   # KEY below HKLM\SYSTEM; TYPE REG_SZ, REG_EXPAND_SZ,
//	                                   # REG_MULTI_SZ (one DATA per string), REG_DWORD,
//	                                   # REG_QWORD (decimal or 0x hex), REG_BINARY (hex)
//	reg-delete KEY [NAME]              # a value, or the key with its subkeys
//	copy       SRC DST                 # paths on the Windows volume: \Windows\...
//	rename     SRC DST
//	delete     PATH                    # a file or an empty folder
//	write      PATH TEXT...            # each TEXT one line, UTF-8, "\r\n" line ends
//	run        PATH [ARG...]           # a native program; waits, with a timeout
//	say        TEXT                    # a line on the boot screen (NtDisplayString)
//	reboot                             # after everything else
//
// # Data file
//
// System32\vmprep.dat, little-endian: a 24-byte header (magic "ICBH",
// version 1, total size at most [MaxFileSize], CRC-32 of the rest, action
// count, the backup name of the original autochk.exe), then the actions, each
// an op byte, a value-type byte, a field count and length-prefixed fields,
// text in UTF-16LE; the layout is in codec.go. Every count and length is
// bounded; the hook's C decoder (csrc/decode.c) and [Decode] accept exactly
// the same files, which a test checks on the fuzz corpus.
//
// # At boot
//
// smss runs BootExecute programs before the Win32 subsystem, with only the
// SYSTEM hive loaded, in order, synchronously (ReactOS
// base/system/smss/sminit.c and smss.c, modelled on NT 5.2: DOS devices,
// then each BootExecute line, then PendingFileRenameOperations). The hook:
//
//  1. finds itself from the PEB's ProcessParameters.ImagePathName: under
//     smss `\SystemRoot\System32\autochk.exe` (it then resolves the
//     \SystemRoot link with NtQuerySymbolicLinkObject to
//     `\Device\HarddiskVolumeN\Windows`), under Wine `D:\Windows\...` or
//     `\??\D:\Windows\...`; the folder holding it is System32, its parent
//     the Windows folder, the parent of that the volume's root, against
//     which action paths are resolved;
//  2. reads System32\vmprep.dat; a missing or malformed file means no
//     actions (the log says why), never a crash;
//  3. performs the actions in order, each logged with its NTSTATUS to
//     <Windows folder>\imagecustom\boot.log (see below); registry actions go
//     to \Registry\Machine\System\..., missing parent keys are created;
//  4. always undoes its installation. Run as autochk.exe (the autochk
//     method): it renames itself to imagecustom-hook.del, renames the backup
//     (from the data file, else vmprep.cfg) back to autochk.exe, runs it
//     with the same command line and waits at most an hour, so a dirty
//     volume still gets its check; under any other name (the bootexecute
//     method) it removes every BootExecute line naming it from each
//     ControlSetNNN. Either way its own image is queued for deletion in
//     Session Manager\PendingFileRenameOperations, which smss processes after
//     BootExecute in the same boot. Once out of the boot path it deletes the
//     data file and the installer's record (<Windows>\imagecustom\hook.json
//     of package imagecustom), so the image shows no hook installed; when the
//     undo fails both stay, for an offline `hook remove`;
//  5. reboots (NtShutdownSystem) if the list asked for it.
//
// Nothing waits without a bound: a run action's program gets
// [Data.RunTimeout] seconds (default ten minutes) and is then ended, the
// original autochk an hour (and is left running past that); nothing reads
// input.
//
// The log is UTF-8 text, appended to at each run, one line per event, CRLF
// line ends; STATUS is an NTSTATUS as 0x%08x:
//
//	boothook 1 start image=PATH actions=N     the data file read; or, instead of actions=N,
//	                                          data=STATUS (unreadable) or data=malformed at=OFFSET
//	action I OP STATUS [exit=STATUS] FIELD    each action in order, with its first field
//	                                          (key or path); exit= for run
//	undo rename-self STATUS                   autochk method
//	undo restore STATUS                       the backup renamed back to autochk.exe
//	undo chain STATUS exit=STATUS             the original autochk run (STATUS_TIMEOUT 0x00000102 past its bound)
//	undo bootexecute STATUS removed=N         bootexecute method
//	undo pending-delete STATUS
//	undo forget STATUS                        after a successful undo: the data file and the
//	                                          installer's record (imagecustom\hook.json) deleted
//	boothook end
//
// # Limits
//
// arm64 is not built: Debian 12 packages mingw-w64 for i686 and x86_64 only
// (apt-cache search mingw lists no aarch64 cross compiler, and llvm-mingw is
// not packaged), so [PE] returns [ErrUnsupported] for it. What the hook does
// on a real Windows boot rests on ReactOS's smss and is tested here under
// Wine only; see README.md for what is unverified.
package boothook
