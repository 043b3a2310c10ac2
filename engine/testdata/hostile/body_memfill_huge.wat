;; Shape: a costly body on a large memory quota (1 GiB, the engine's
;; default ceiling): memory.fill over the whole memory at every
;; iteration. One instruction of a hundred milliseconds or more; the
;; deadline and a collection's stop-the-world would wait for it unless
;; the instrumenter splits it.
;; Expected: timeout.
(module
  (memory (export "memory") 1)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (local $i i32)
    (drop (memory.grow (i32.const 16383)))
    (loop $top
      (memory.fill (i32.const 0) (local.get $i) (i32.shl (memory.size) (i32.const 16)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $top))
    (i32.const 0)))
