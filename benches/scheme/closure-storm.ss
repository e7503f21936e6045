;; Closure creation: build and call very many short-lived closures (peer of programs/closure-storm.menai).
(define rounds 350000)
(define depth 10)

(define (adder n) (lambda (x) (+ x n)))

(define (compose f g) (lambda (x) (f (g x))))

;; adder(1) . adder(2) . ... . adder(n) . f
(define (chain n f)
  (if (= n 0)
      f
      (chain (- n 1) (compose (adder n) f))))

;; sums n + (n-1) + ... + 1 in continuation-passing style
(define (cps-sum n k)
  (if (= n 0)
      (k 0)
      (cps-sum (- n 1) (lambda (v) (k (+ v n))))))

(define (loop i acc)
  (if (> i rounds)
      acc
      (let ((f (chain depth (adder i)))
            (s (cps-sum depth (lambda (v) (+ v i)))))
        (loop (+ i 1) (modulo (+ (* acc 31) (f i) s) 1000003)))))

(display (loop 1 0))
(newline)
