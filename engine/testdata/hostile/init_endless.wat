;; Shape: an _initialize that never ends (an endless loop). The host runs
;; _initialize before the first call, outside the call's limit.
;; Expected: invalid_module at upload (the probe instance never starts), or
;; timeout within the call's deadline; never a wait of seconds.
(module
  (memory (export "memory") 1)
  (func (export "_initialize")
    (loop $l (br $l)))
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param $n i32) (result i32) (i32.const 0)))
