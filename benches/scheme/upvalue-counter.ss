;; Counter closures over captured state, each step returning a new counter (peer of programs/upvalue-counter.menai).
(define steps 3500000)

;; (counter 0) is its value, (counter 1) the counter advanced by its step,
;; any other op the same value with the step increased by one
(define (make-counter n step)
  (lambda (op)
    (cond ((= op 0) n)
          ((= op 1) (make-counter (modulo (+ n step) 1000003) step))
          (else (make-counter n (+ step 1))))))

(define (loop i a b acc)
  (if (> i steps)
      acc
      (let* ((a (a 1))
             (a (if (= (modulo i 7) 0) (a 2) a))
             (b (if (= (modulo (a 0) 3) 0) (b 2) (b 1))))
        (loop (+ i 1) a b (modulo (+ acc (* (a 0) 3) (b 0)) 1000003)))))

(display (loop 1 (make-counter 0 1) (make-counter 7 3) 0))
(newline)
