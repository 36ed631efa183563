; msrscan: RDMSR over 0..0x1FFF, 0xC0000000..0xC0001FFF and a few odd numbers, then WRMSR of
; garbage to MSRs that would hurt a real machine or the hypervisor (VMX feature control, EFER
; reserved bits, SYSENTER, LSTAR, the APIC base, MTRRs, VMX capability MSRs, PAT, DEBUGCTL...).
; Its IDT counts each #GP and resumes after the instruction. hv must raise #GP or keep the
; value virtual, never crash; a write that raises #GP must leave the MSR as it was
; (checked by reading it before and after). Ends exit(0) after printing the counts, exit(1)
; on a broken rule.
bits 32
%include "guest.inc"

%define MSR_LOW_FIRST      0x00000000
%define MSR_LOW_END        0x00002000
%define MSR_HIGH_FIRST     0xC0000000
%define MSR_HIGH_END       0xC0002000
%define MSR_FEATURE_CTRL   0x3A
%define MSR_APIC_BASE      0x1B
%define MSR_SYSENTER_CS    0x174
%define MSR_SYSENTER_ESP   0x175
%define MSR_SYSENTER_EIP   0x176
%define MSR_DEBUGCTL       0x1D9
%define MSR_MTRR_PHYSBASE0 0x200
%define MSR_MTRR_PHYSMASK0 0x201
%define MSR_MTRR_FIX64K    0x250
%define MSR_PAT            0x277
%define MSR_MTRR_DEF_TYPE  0x2FF
%define MSR_VMX_BASIC      0x480
%define MSR_VMX_EPT_VPID   0x48C
%define MSR_EFER           0xC0000080
%define MSR_STAR           0xC0000081
%define MSR_LSTAR          0xC0000082
%define MSR_FS_BASE        0xC0000100
%define MSR_GS_BASE        0xC0000101
%define MSR_KERNEL_GS_BASE 0xC0000102
%define MSR_SMM_MONITOR    0x9B
%define MSR_SPEC_CTRL      0x48
%define MSR_TSC_DEADLINE   0x6E0
%define MSR_X2APIC_FIRST   0x800
%define EXPECT_GP          1       ; the write must raise #GP
%define MAY_GP             0       ; the write may succeed (a virtual MSR) or raise #GP
%define WRITE_ENTRY_BYTES  16

section .text
global _start
_start:
    mov esp, stack_top
    LOAD_FLAT_GDT
    call idt_install_exceptions
    call idt_load
    PUTS msg_start

    mov ebx, MSR_LOW_FIRST
    mov edi, MSR_LOW_END
    call scan_range
    mov ebx, MSR_HIGH_FIRST
    mov edi, MSR_HIGH_END
    call scan_range
    mov esi, odd_msrs
.odd:
    mov ebx, [esi]
    test ebx, ebx
    jz .odd_done
    lea edi, [ebx + 1]
    push esi
    call scan_range
    pop esi
    add esi, 4
    jmp .odd
.odd_done:
    PUTS msg_read
    mov eax, [count_read]
    call putdec32
    PUTS msg_gp
    mov eax, [count_read_gp]
    call putdec32
    PUTS msg_nl

    ; ---- garbage writes
    mov esi, garbage_writes
.write:
    mov ebx, [esi]                  ; MSR (0 ends the table)
    test ebx, ebx
    jz .writes_done
    call write_checked
    add esi, WRITE_ENTRY_BYTES
    jmp .write
.writes_done:
    PUTS msg_written
    mov eax, [count_write]
    call putdec32
    PUTS msg_gp
    mov eax, [count_write_gp]
    call putdec32
    PUTS msg_nl

    ; the scan is still a working vCPU: CPUID and a hypercall round trip
    xor eax, eax
    cpuid
    cmp dword [count_bad], 0
    EXIT_FAIL_IF ne, .fail

; scan_range: RDMSR of every MSR in [EBX, EDI); counts successes and #GPs.
scan_range:
.next:
    mov ecx, ebx
    mov eax, [fault_count]
    mov [faults_before], eax
    PROBE rdmsr
    mov eax, [fault_count]
    cmp eax, [faults_before]
    je .ok
    cmp dword [fault_vector], VEC_GP
    jne .wrong_vector
    inc dword [count_read_gp]
    jmp .step
.wrong_vector:
    mov eax, ebx
    call report_bad
    jmp .step
.ok:
    inc dword [count_read]
.step:
    inc ebx
    cmp ebx, edi
    jne .next
    ret

; write_checked ESI -> {u32 msr, u32 low, u32 high, u32 expect}: reads the MSR (if it reads),
; writes the value, and reads it again. #GP is required when expect = EXPECT_GP; after a #GP
; the MSR must read as before. Any exception other than #GP is a failure.
write_checked:
    mov dword [had_before], 0
    mov ecx, ebx
    mov eax, [fault_count]
    mov [faults_before], eax
    PROBE rdmsr
    mov ecx, [fault_count]
    cmp ecx, [faults_before]
    jne .write
    mov dword [had_before], 1
    mov [before_low], eax
    mov [before_high], edx
.write:
    inc dword [count_write]
    mov ecx, ebx
    mov eax, [esi + 4]
    mov edx, [esi + 8]
    push dword [fault_count]
    PROBE wrmsr
    pop eax
    cmp eax, [fault_count]
    je .no_fault
    cmp dword [fault_vector], VEC_GP
    jne .bad
    inc dword [count_write_gp]
    cmp dword [had_before], 0
    je .done
    mov ecx, ebx                    ; a refused write changes nothing
    PROBE rdmsr
    cmp eax, [before_low]
    jne .bad
    cmp edx, [before_high]
    jne .bad
.done:
    ret
.no_fault:
    cmp dword [esi + 12], EXPECT_GP
    je .bad
    ret
.bad:
    mov eax, ebx
    jmp report_bad

; report_bad: MSR EAX broke a rule.
report_bad:
    inc dword [count_bad]
    PUTS msg_bad
    call puthex32
    PUTS msg_nl
    ret

DEFINE_PUTS32
DEFINE_PUTHEX32
DEFINE_PUTDEC32
DEFINE_FLAT_GDT
DEFINE_IDT

section .rodata
; MSR numbers outside the scanned ranges, ended by 0
odd_msrs:
    dd 0x40000000, 0x40000001, 0x400000FF   ; hypervisor range (Hyper-V/KVM synthetic MSRs)
    dd 0x4B564D00, 0x4B564D01               ; KVM's own
    dd 0x80000000, 0x80000001, 0xC0010000   ; reserved, AMD performance counters
    dd 0xC0010114, 0xC0011000, 0xFFFFFFFF   ; AMD VM_CR, AMD misc, the last number
    dd 0x0001FFFF, 0x12345678, 0xDEADBEEF
    dd 0

%macro GARBAGE 4
    dd %1, %2, %3, %4
%endmacro
; {msr, low, high, expect}; "expect" is EXPECT_GP where the SDM (or hv's documented model)
; demands #GP for this value, ended by msr 0.
garbage_writes:
    GARBAGE MSR_FEATURE_CTRL, 0x00000007, 0, EXPECT_GP          ; lock + VMXON in/out SMX
    GARBAGE MSR_FEATURE_CTRL, 0, 0, EXPECT_GP                   ; unlock
    GARBAGE MSR_EFER, 0xFFFFF000, 0xFFFFFFFF, EXPECT_GP         ; reserved bits
    GARBAGE MSR_EFER, 0x00000002, 0, EXPECT_GP                  ; reserved bit 1
    GARBAGE MSR_SYSENTER_CS, 0xFFFFFFFF, 0xFFFFFFFF, MAY_GP
    GARBAGE MSR_SYSENTER_ESP, 0xDEADBEEF, 0xDEADBEEF, EXPECT_GP ; non-canonical
    GARBAGE MSR_SYSENTER_EIP, 0xDEADBEEF, 0x80000000, EXPECT_GP ; non-canonical
    GARBAGE MSR_LSTAR, 0x00000000, 0x00800000, EXPECT_GP        ; non-canonical
    GARBAGE MSR_LSTAR, 0xDEAD0000, 0x0000DEAD, MAY_GP           ; canonical: virtual
    GARBAGE MSR_STAR, 0xFFFFFFFF, 0xFFFFFFFF, MAY_GP
    GARBAGE MSR_FS_BASE, 0, 0xDEAD0000, EXPECT_GP               ; non-canonical
    GARBAGE MSR_GS_BASE, 0, 0x00FF0000, EXPECT_GP               ; non-canonical
    GARBAGE MSR_KERNEL_GS_BASE, 0, 0x80000000, EXPECT_GP        ; non-canonical
    GARBAGE MSR_APIC_BASE, 0xDEADBEEF, 0xFFFFFFFF, EXPECT_GP    ; reserved bits
    GARBAGE MSR_APIC_BASE, 0x00000000, 0, MAY_GP                ; disable the APIC
    GARBAGE MSR_APIC_BASE, 0xFEE00C00, 0, MAY_GP                ; x2APIC mode
    GARBAGE MSR_MTRR_DEF_TYPE, 0xFFFFFFFF, 0xFFFFFFFF, EXPECT_GP ; reserved bits
    GARBAGE MSR_MTRR_DEF_TYPE, 0x00000C02, 0, EXPECT_GP         ; memory type 2 is reserved
    GARBAGE MSR_MTRR_PHYSBASE0, 0x00000F07, 0xFFF00000, EXPECT_GP ; reserved bits
    GARBAGE MSR_MTRR_PHYSMASK0, 0x000007FF, 0, EXPECT_GP        ; reserved bits 10:0
    GARBAGE MSR_MTRR_FIX64K, 0x02020202, 0x02020202, EXPECT_GP  ; type 2 is reserved
    GARBAGE MSR_MTRR_PHYSBASE0, 0x00000000, 0, MAY_GP           ; UC at 0 (valid)
    GARBAGE MSR_PAT, 0x02020202, 0x02020202, EXPECT_GP          ; type 2 is reserved
    GARBAGE MSR_DEBUGCTL, 0xFFFFFFFF, 0, EXPECT_GP              ; reserved bits
    GARBAGE MSR_SPEC_CTRL, 0xFFFFFFFF, 0xFFFFFFFF, EXPECT_GP    ; reserved bits
    GARBAGE MSR_SMM_MONITOR, 0xFFFFFFFF, 0xFFFFFFFF, MAY_GP     ; SMM monitor (dual monitor)
    GARBAGE MSR_VMX_BASIC, 0, 0, EXPECT_GP                      ; VMX capabilities: read-only
    GARBAGE MSR_VMX_EPT_VPID, 0xFFFFFFFF, 0xFFFFFFFF, EXPECT_GP
    GARBAGE MSR_TSC_DEADLINE, 0x00000001, 0, MAY_GP
    GARBAGE MSR_X2APIC_FIRST + 0x0B, 0, 0, EXPECT_GP            ; x2APIC EOI, not in x2APIC mode
    GARBAGE 0x12345678, 0xDEADBEEF, 0xDEADBEEF, EXPECT_GP       ; no such MSR
    GARBAGE 0xFFFFFFFF, 0, 0, EXPECT_GP
    dd 0

msg_start:   db "msrscan: RDMSR over 16K MSRs, then garbage WRMSRs", 10, 0
msg_read:    db "RDMSR ok ", 0
msg_written: db "WRMSR done ", 0
msg_gp:      db ", #GP ", 0
msg_bad:     db "FAIL: MSR ", 0
msg_nl:      db 10, 0
msg_pass:    db "PASS: every MSR access was contained", 10, 0
msg_fail:    db "FAIL: some MSR accesses broke the rules", 10, 0

section .bss
alignb 4
count_read:     resd 1
count_read_gp:  resd 1
count_write:    resd 1
count_write_gp: resd 1
count_bad:      resd 1
faults_before:  resd 1
had_before:     resd 1
before_low:     resd 1
before_high:    resd 1
alignb 16
    resb 4096
stack_top:
