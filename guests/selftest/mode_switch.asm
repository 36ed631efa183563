; selftest mode trip: the guest leaves 64-bit mode and comes back on its own, exercising hv's
; handling of CR0/EFER changes (EFER.LMA and the "IA-32e mode guest" entry control, SDM vol. 3
; §10.8.5, §28.3.1.1), real mode under unrestricted guest and the I/O and VMCALL exits from each
; mode. Interrupts stay disabled throughout; any exception on the way is fatal (triple fault).
;
;   64-bit -> compatibility mode (CS 0x18) -> CR0.PG=0 (legacy protected mode, LMA=0), EFER.LME=0
;   [ST_TRIP_PAE: CR3 = a PAE PDPT, CR0.PG=1 (PAE paging, LMA stays 0), read through it, PG=0]
;   -> 16-bit protected mode (CS 0x20) -> CR0.PE=0 -> real mode at 0800:xxxx (a copy of the stub
;   at 0x8000): CPUID, IN from COM1's LSR, REP OUTSB with DS base 0x8000, a console hypercall
;   -> CR0.PE=1 -> 32-bit protected mode -> EFER.LME=1, CR3, CR0.PG=1 -> 64-bit mode.
; With ST_TRIP_VIA_HV every CR0.PG change also flips CR0.CD (a bit hv owns), so the write exits
; and hv emulates the paging change instead of the CPU.
; Results land in struct st_mode_data at ST_MODE_DATA (selftest.h; same offsets as D_* here).
bits 64

%define RM_STUB        0x8000
%define RM_SEG         (RM_STUB >> 4)
%define RM_DATA        0x7000
%define RM_STACK       0x6F00
%define SEL_CODE64     0x08
%define SEL_DATA       0x10
%define SEL_CODE32     0x18
%define SEL_CODE16     0x20
%define SEL_DATA16     0x28
%define CR0_PE         0x1
%define CR0_CD         0x40000000
%define CR0_PG         0x80000000
%define MSR_EFER       0xC0000080
%define EFER_LME       0x100
%define TRIP_VIA_HV    1
%define TRIP_PAE       2
%define COM1           0x3F8
%define COM1_LSR       0x3FD
%define HC_CONSOLE     1

%define MARK_PM32      0x32334D50
%define MARK_REAL      0x4C414552
%define MARK_PM32_BACK 0x4B434142
%define MARK_PAE       0x20454150

%define D_PM32         0
%define D_EFER_PM32    4
%define D_REAL         8
%define D_REAL_CS      12
%define D_REAL_CR0     16
%define D_REAL_LSR     20
%define D_REAL_HC      24
%define D_REAL_SI      28
%define D_REAL_CX      32
%define D_REAL_CPUID   36
%define D_PM32_BACK    52
%define D_PAE          56
%define D_EFER_PAE     60
%define D_CR0_PAE      64
%define D_PAE_READ     68
%define D_FLAGS        72
%define D_PAE_CR3      76

section .text

; void st_mode_trip(uint32_t flags, uint32_t pae_pdpt)
global st_mode_trip
st_mode_trip:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [saved_rsp], rsp
    mov rax, cr3
    mov [saved_cr3], rax
    mov [abs RM_DATA + D_FLAGS], edi
    mov [abs RM_DATA + D_PAE_CR3], esi
    mov rsi, rm_stub_start          ; real mode runs below 1 MiB: copy the stub there
    mov rdi, RM_STUB
    mov ecx, rm_stub_end - rm_stub_start
    cld
    rep movsb
    push SEL_CODE32                 ; to compatibility mode
    mov rax, compat32
    push rax
    retfq

bits 32
compat32:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    ; Leave IA-32e mode: paging off from compatibility mode (§10.8.5.4), then LME off.
    mov eax, cr0
    and eax, ~CR0_PG
    test dword [RM_DATA + D_FLAGS], TRIP_VIA_HV
    jz .pg_off
    or eax, CR0_CD
.pg_off:
    mov cr0, eax
    jmp .legacy
.legacy:
    mov ecx, MSR_EFER
    rdmsr
    and eax, ~EFER_LME
    wrmsr
    rdmsr
    mov [RM_DATA + D_EFER_PM32], eax
    mov dword [RM_DATA + D_PM32], MARK_PM32

    test dword [RM_DATA + D_FLAGS], TRIP_PAE
    jz .to_real
    mov eax, [RM_DATA + D_PAE_CR3]
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    test dword [RM_DATA + D_FLAGS], TRIP_VIA_HV
    jz .pae_on
    and eax, ~CR0_CD
.pae_on:
    mov cr0, eax                    ; PAE paging (EFER.LME=0): the PDPTEs load now (§4.4.1)
    jmp .pae
.pae:
    mov dword [RM_DATA + D_PAE], MARK_PAE
    mov ecx, MSR_EFER
    rdmsr
    mov [RM_DATA + D_EFER_PAE], eax
    mov eax, cr0
    mov [RM_DATA + D_CR0_PAE], eax
    mov eax, [RM_DATA + D_PM32]     ; a read translated by PAE paging
    mov [RM_DATA + D_PAE_READ], eax
    mov eax, cr0
    and eax, ~CR0_PG
    test dword [RM_DATA + D_FLAGS], TRIP_VIA_HV
    jz .pae_off
    or eax, CR0_CD
.pae_off:
    mov cr0, eax
    jmp .to_real
.to_real:
    jmp SEL_CODE16:(RM_STUB + rm_pm16 - rm_stub_start)

pm32_back:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, [saved_rsp]            ; the 64-bit stack lies below 4 GiB
    mov dword [RM_DATA + D_PM32_BACK], MARK_PM32_BACK
    ; Back to IA-32e mode (§10.8.5): LME, CR3, then PG (CR4.PAE is still set).
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, [saved_cr3]
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    test dword [RM_DATA + D_FLAGS], TRIP_VIA_HV
    jz .pg_on
    and eax, ~CR0_CD
.pg_on:
    mov cr0, eax                    ; EFER.LMA=1: compatibility mode
    jmp SEL_CODE64:long_back

bits 64
long_back:
    mov ax, SEL_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, [saved_rsp]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret

; ---- copied to RM_STUB; position-independent apart from RM_STUB-relative addresses ----
bits 16
rm_stub_start:
rm_pm16:                            ; 16-bit protected mode, CS base 0, IP = RM_STUB + offset
    mov ax, SEL_DATA16              ; real-mode-like limits before PE goes
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov eax, cr0
    and eax, ~CR0_PE
    mov cr0, eax
    jmp RM_SEG:(rm_real - rm_stub_start)
rm_real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, RM_STACK
    mov dword [RM_DATA + D_REAL], MARK_REAL
    mov ax, cs
    mov [RM_DATA + D_REAL_CS], ax
    mov eax, cr0
    mov [RM_DATA + D_REAL_CR0], eax
    mov dx, COM1_LSR
    in al, dx
    mov [RM_DATA + D_REAL_LSR], al
    xor eax, eax
    xor ecx, ecx
    cpuid
    mov [RM_DATA + D_REAL_CPUID], eax
    mov [RM_DATA + D_REAL_CPUID + 4], ebx
    mov [RM_DATA + D_REAL_CPUID + 8], ecx
    mov [RM_DATA + D_REAL_CPUID + 12], edx
    ; A string OUT through DS = RM_SEG: hv must add the real-mode segment base.
    mov ax, RM_SEG
    mov ds, ax
    mov si, rm_msg_outs - rm_stub_start
    mov cx, rm_msg_outs_len
    mov dx, COM1
    cld
    rep outsb
    xor ax, ax
    mov ds, ax
    sub si, rm_msg_outs - rm_stub_start ; bytes SI advanced
    mov [RM_DATA + D_REAL_SI], si
    mov [RM_DATA + D_REAL_CX], cx
    mov eax, HC_CONSOLE             ; a hypercall from real mode (CPL 0): EBX = the GPA
    mov ebx, RM_STUB + rm_msg_hc - rm_stub_start
    mov ecx, rm_msg_hc_len
    vmcall
    mov [RM_DATA + D_REAL_HC], eax
    mov eax, cr0                    ; back to protected mode
    or eax, CR0_PE
    mov cr0, eax
    jmp dword SEL_CODE32:pm32_back
rm_msg_outs: db "real mode: rep outsb from DS base 0x8000", 10
rm_msg_outs_len equ $ - rm_msg_outs
rm_msg_hc: db "real mode: console hypercall", 10
rm_msg_hc_len equ $ - rm_msg_hc
rm_stub_end:

section .bss
alignb 8
saved_rsp: resq 1
saved_cr3: resq 1
