;; Symbolic differentiation and simplification of a big expression tree (peer of programs/deriv.menai).
;; Expressions: integers, the symbols x and y, and lists (op a b) with op + or *.
(define modulus 2147483647)

(define (mix k)
  (modulo (* (modulo (* k 48271) modulus) 48271) modulus))

;; Deterministic pseudo-random tree: node k has children 2k and 2k+1.
(define (gen depth k)
  (let ((h (mix k)))
    (if (or (= depth 0) (= (modulo h 8) 0))
        (let ((r (modulo (quotient h 8) 4)))
          (cond ((= r 0) 'x)
                ((= r 1) 'y)
                (else (+ (modulo (quotient h 32) 5) 1))))
        (list (if (= (modulo (quotient h 8) 2) 0) '+ '*)
              (gen (- depth 1) (* 2 k))
              (gen (- depth 1) (+ (* 2 k) 1))))))

(define (deriv e v)
  (cond ((number? e) 0)
        ((symbol? e) (if (eq? e v) 1 0))
        ((eq? (car e) '+)
         (list '+ (deriv (cadr e) v) (deriv (caddr e) v)))
        (else
         (list '+
               (list '* (deriv (cadr e) v) (caddr e))
               (list '* (cadr e) (deriv (caddr e) v))))))

(define (mk-add a b)
  (cond ((eqv? a 0) b)
        ((eqv? b 0) a)
        ((and (number? a) (number? b)) (+ a b))
        (else (list '+ a b))))

(define (mk-mul a b)
  (cond ((or (eqv? a 0) (eqv? b 0)) 0)
        ((eqv? a 1) b)
        ((eqv? b 1) a)
        ((and (number? a) (number? b)) (* a b))
        (else (list '* a b))))

(define (simplify e)
  (if (pair? e)
      (let* ((a (simplify (cadr e)))
             (b (simplify (caddr e))))
        (if (eq? (car e) '+) (mk-add a b) (mk-mul a b)))
      e))

;; size + 1000 * (sum of the constants mod 1000)
(define (measure e)
  (cond ((pair? e) (+ 1 (measure (cadr e)) (measure (caddr e))))
        ((number? e) (+ 1 (* (modulo e 1000) 1000)))
        (else 1)))

(define tree (gen 16 1))

(define (rounds i acc)
  (if (> i 18)
      acc
      (let ((d (simplify (deriv tree (if (= (modulo i 2) 1) 'x 'y)))))
        (rounds (+ i 1) (modulo (+ (* acc 31) (measure d)) 1000003)))))

(display (rounds 1 (modulo (measure tree) 1000003)))
(newline)
