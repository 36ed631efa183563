; Manual check (tests/manual/linux-qemu-boot): a minimal firmware for QEMU's `-M pc` that starts
; a Linux guest laid out by hv's loader in the entry state hv gives it (vmx/loader/bzimage.h):
; 64-bit mode on the loader's page tables (CR3) and GDT (CS = __BOOT_CS, DS = ES = SS = __BOOT_DS),
; RSI = boot_params, interrupts off, at the kernel's 64-bit entry. It also turns on the PIIX4's
; ACPI PM I/O block at 0x600, so that the FADT's PM1a_CNT (0x604) powers QEMU off as it does hv.
;
; This is the F segment of a 128 KiB BIOS image whose first 64 KiB are hv's ACPI region: QEMU
; maps the image's last 128 KiB read-only at 0xE0000-0xFFFFF, so the tables sit where hv puts
; them. Offset p is linear 0xFFFF0000 + p at reset (CS base 0xFFFF0000, IP 0xFFF0).
; Defines (nasm -D): ENTRY, RSI_VAL, RSP_VAL, CR3_VAL, GDT_BASE, GDT_LIMIT, CS_SEL, DS_SEL.
bits 16
times 0xF000 db 0
start:
    cli
    ; PIIX4 function 3 (PCI 00:01.3): PMBA (0x40) = 0x600 | 1; PMREGMISC (0x80) bit 0: PM I/O on.
    mov eax, 0x80000B40
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    mov eax, 0x601
    out dx, eax
    mov eax, 0x80000B80
    mov dx, 0xCF8
    out dx, eax
    mov dx, 0xCFC
    mov al, 1
    out dx, al
    o32 lgdt [cs:gdtr]
    mov eax, cr4
    or eax, 1 << 5              ; CR4.PAE
    mov cr4, eax
    mov eax, CR3_VAL
    mov cr3, eax
    mov ecx, 0xC0000080         ; IA32_EFER
    rdmsr
    or eax, 1 << 8              ; LME
    wrmsr
    mov eax, cr0
    or eax, 0x80000001          ; PG | PE together: straight into IA-32e mode
    mov cr0, eax
    jmp dword CS_SEL:(0xFFFF0000 + long64)
bits 64
long64:
    mov ax, DS_SEL
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov esi, RSI_VAL
    mov esp, RSP_VAL
    mov eax, ENTRY
    jmp rax
align 8
gdtr:
    dw GDT_LIMIT
    dd GDT_BASE
times 0xFFF0 - ($ - $$) db 0
bits 16
    jmp start                   ; the reset vector
times 0x10000 - ($ - $$) db 0
