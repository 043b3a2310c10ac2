;; Shape: memory growth touched one byte a page. The memory grows to the
;; 1 GiB quota at once, then a short loop writes one byte to each of its
;; 262 144 pages (4 KiB), again and again. The loop's instructions are
;; few, so fuel runs out (and the runtime's stop-the-world can take the
;; goroutine) only every ~12 000 pages, while the first touch of each
;; fresh page costs the kernel, and this VM's hypervisor, microseconds.
;; Expected: timeout.
(module
  (memory (export "memory") 1)
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (local $p i32) (local $end i32)
    (drop (memory.grow (i32.const 16383)))
    (local.set $end (i32.shl (memory.size) (i32.const 16)))
    (loop $sweep
      (local.set $p (i32.const 0))
      (loop $page
        (i32.store8 (local.get $p) (i32.const 1))
        (local.set $p (i32.add (local.get $p) (i32.const 4096)))
        (br_if $page (i32.lt_u (local.get $p) (local.get $end))))
      (br $sweep))
    (i32.const 0)))
