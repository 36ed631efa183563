; realmode: a flat binary started in real mode (module args: mode=real entry=ADDR load=ADDR,
; with entry = load). hv derives CS from the entry address (CS.base = entry & ~0xFFFF, IP = its
; low 16 bits) and sets DS=ES=SS=CS (docs/guest-abi.md), so the image runs wherever it is
; loaded: it finds its own IP and addresses its data from there. It prints its CS through COM1,
; executes CPUID, and halts with interrupts off: the verdict is `halted`.
bits 16
%define COM1 0x3F8

start:
    mov sp, 0xFFF0                  ; the top of this 64 KiB segment
    call .here                      ; IP of .here, to address our data wherever we were loaded
.here:
    pop bx
    lea si, [bx + msg - .here]
    call puts
    mov ax, cs                      ; print CS as 4 hex digits
    call puthex16
    mov al, 10
    call putc
    xor eax, eax
    cpuid                           ; an exit from real mode
    cli
    hlt                             ; nothing pending, IF=0: the guest ends "halted"
    jmp $

; SI: offset of a NUL-terminated string in the segment
puts:
    mov al, [si]
    test al, al
    jz .done
    call putc
    inc si
    jmp puts
.done:
    ret

putc:
    mov dx, COM1
    out dx, al
    ret

puthex16:
    mov cx, 4
.digit:
    rol ax, 4
    push ax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .out
    add al, 'a' - '9' - 1
.out:
    call putc
    pop ax
    loop .digit
    ret

msg: db "hello from real mode, CS=", 0
