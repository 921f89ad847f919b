/* presets.S — the example configurations in examples/configs/ embedded as NUL-terminated
 * strings: the zero-configuration defaults (defaults.c) use them as model presets. */
        .section .rodata
        .global qr_preset_openrouter, qr_preset_openai, qr_preset_anthropic, qr_preset_ollama
qr_preset_openrouter:
        .incbin "examples/configs/openrouter-cheap.json"
        .byte 0
qr_preset_openai:
        .incbin "examples/configs/openai.json"
        .byte 0
qr_preset_anthropic:
        .incbin "examples/configs/anthropic.json"
        .byte 0
qr_preset_ollama:
        .incbin "examples/configs/ollama.json"
        .byte 0
        .section .note.GNU-stack,"",@progbits
