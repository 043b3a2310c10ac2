;; Shape: WASI poll_oneoff with a subscription for every 80 bytes of the
;; memory (48 in, 32 out), in a loop: wazero makes an event in the Go heap
;; for each before it waits on any.
;; Expected: timeout.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1000)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (local $subs i32)
    (local.set $subs (i32.div_u (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 64)) (i32.const 80)))
    ;; subscriptions from 64 on, all zero: clock subscriptions of timeout 0
    (loop $top
      (drop (call $poll (i32.const 64) (i32.add (i32.const 64) (i32.mul (local.get $subs) (i32.const 48)))
        (local.get $subs) (i32.const 0)))
      (br $top))
    (i32.const 0)))
