/* strategies.S — embeds the built-in review strategies (server/review/strategies/NAME.md) into the binary.
 * Each prompt is followed by a NUL byte, so qr_strategy_<name> is a C string (see config.c). */
  .section .rodata
  .balign 16

  .global qr_strategy_correctness
qr_strategy_correctness:
  .incbin "server/review/strategies/correctness.md"
  .byte 0

  .global qr_strategy_security
qr_strategy_security:
  .incbin "server/review/strategies/security.md"
  .byte 0

  .global qr_strategy_performance
qr_strategy_performance:
  .incbin "server/review/strategies/performance.md"
  .byte 0

  .global qr_strategy_maintainability
qr_strategy_maintainability:
  .incbin "server/review/strategies/maintainability.md"
  .byte 0

  .section .note.GNU-stack,"",@progbits
