package main

import (
	"encoding/binary"
	"fmt"
)

// codeEnv gives the code generator the addresses it needs.
type codeEnv struct {
	textRVA   uint32            // RVA of the first code byte (the entry point)
	imageBase uint64            // preferred load address
	iatSlot   map[string]uint32 // RVA of each imported function's IAT slot
	dataRVA   []uint32          // RVA of each program datum
}

// amd64 prologue/epilogue, shared with the unwind info in .rdata.
const (
	amd64FrameSize  = 0x28 // 32 bytes home space + 8 to realign rsp to 16
	amd64PrologSize = 4    // sub rsp, imm8
)

// gen386 emits the 32-bit entry point
//
//	VOID NTAPI NtProcessStartup(PPEB Peb)   // stdcall, _NtProcessStartup@4
//
// as a straight sequence of stdcall calls: push the arguments right to left,
// then "call dword ptr [__imp__Fn@N]". It returns the code and the offsets
// (within the code) of the 32-bit absolute addresses that need HIGHLOW base
// relocations.
func gen386(p program, env codeEnv) (code []byte, absFixups []uint32, err error) {
	abs32 := func(rva uint32) {
		absFixups = append(absFixups, uint32(len(code)))
		code = binary.LittleEndian.AppendUint32(code, uint32(env.imageBase)+rva)
	}
	for _, c := range p.calls {
		for i := len(c.args) - 1; i >= 0; i-- {
			a := c.args[i]
			switch {
			case a.ref >= 0:
				code = append(code, 0x68) // push imm32 (address)
				abs32(env.dataRVA[a.ref])
			case a.imm >= -128 && a.imm <= 127:
				code = append(code, 0x6A, byte(int8(a.imm))) // push imm8 (sign-extended)
			case a.imm >= -1<<31 && a.imm < 1<<32:
				code = append(code, 0x68) // push imm32
				code = binary.LittleEndian.AppendUint32(code, uint32(a.imm))
			default:
				return nil, nil, fmt.Errorf("i386: immediate %d does not fit 32 bits", a.imm)
			}
		}
		slot, ok := env.iatSlot[c.fn]
		if !ok {
			return nil, nil, fmt.Errorf("no IAT slot for %s", c.fn)
		}
		code = append(code, 0xFF, 0x15) // call dword ptr [abs32]
		abs32(slot)
	}
	code = append(code, 0xC2, 0x04, 0x00) // ret 4 (not reached)
	return code, absFixups, nil
}

// genAMD64 emits the 64-bit entry point (Microsoft x64 calling convention):
//
//	sub  rsp, 28h
//	<load rcx, rdx>
//	call qword ptr [rip+__imp_Fn]   ; for each call
//	add  rsp, 28h
//	ret
//
// All data and IAT references are RIP-relative, so the code needs no base
// relocations.
func genAMD64(p program, env codeEnv) ([]byte, error) {
	var code []byte
	here := func() uint32 { return env.textRVA + uint32(len(code)) }
	// rel32 appends the displacement from the end of the 4-byte field
	// (which ends the instruction) to target.
	rel32 := func(target uint32) {
		next := here() + 4
		code = binary.LittleEndian.AppendUint32(code, target-next)
	}

	code = append(code, 0x48, 0x83, 0xEC, amd64FrameSize) // sub rsp, 28h
	if len(code) != amd64PrologSize {
		panic("amd64 prologue size mismatch")
	}
	for _, c := range p.calls {
		if len(c.args) > 2 {
			return nil, fmt.Errorf("amd64: %s: only two register arguments supported", c.fn)
		}
		for i, a := range c.args {
			reg := byte(1 + i) // 1 = rcx/ecx, 2 = rdx/edx
			switch {
			case a.ref >= 0:
				// lea r64, [rip+disp32]: REX.W 8D /r, ModRM mod=00 rm=101
				code = append(code, 0x48, 0x8D, 0x05|reg<<3)
				rel32(env.dataRVA[a.ref])
			case a.imm == 0:
				// xor r32, r32 (zero-extends to 64 bits): 33 /r
				code = append(code, 0x33, 0xC0|reg<<3|reg)
			case a.imm > 0 && a.imm < 1<<32:
				// mov r32, imm32 (zero-extends): B8+r id
				code = append(code, 0xB8+reg)
				code = binary.LittleEndian.AppendUint32(code, uint32(a.imm))
			case a.imm < 0 && a.imm >= -1<<31:
				// mov r64, imm32 (sign-extended): REX.W C7 /0 id
				code = append(code, 0x48, 0xC7, 0xC0|reg)
				code = binary.LittleEndian.AppendUint32(code, uint32(int32(a.imm)))
			default:
				return nil, fmt.Errorf("amd64: immediate %d not supported", a.imm)
			}
		}
		slot, ok := env.iatSlot[c.fn]
		if !ok {
			return nil, fmt.Errorf("no IAT slot for %s", c.fn)
		}
		code = append(code, 0xFF, 0x15) // call qword ptr [rip+disp32]
		rel32(slot)
	}
	code = append(code, 0x48, 0x83, 0xC4, amd64FrameSize) // add rsp, 28h (not reached)
	code = append(code, 0xC3)                             // ret
	return code, nil
}

// amd64UnwindInfo is the UNWIND_INFO for genAMD64's function: version 1, no
// flags, a 4-byte prologue with one unwind code, UWOP_ALLOC_SMALL of 28h at
// prologue offset 4, padded to an even number of code slots.
func amd64UnwindInfo() []byte {
	const (
		uwopAllocSmall = 2
		version        = 1
	)
	opInfo := byte(amd64FrameSize/8 - 1)
	return []byte{
		version,                                     // Version:3, Flags:5
		amd64PrologSize,                             // SizeOfProlog
		1,                                           // CountOfCodes
		0,                                           // FrameRegister:4, FrameOffset:4
		amd64PrologSize, uwopAllocSmall | opInfo<<4, // UNWIND_CODE[0]
		0, 0, // padding slot
	}
}
