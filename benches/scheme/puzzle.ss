;; IDA* search with the Manhattan-distance heuristic on 15-puzzle instances (peer of programs/puzzle.menai).
;; Nodes are records holding the tiles (a fresh 16-element vector per node,
;; 0 is the blank), the blank's position and the heuristic.
(define modulus 2147483647)
(define instances 14)
(define walk 38)
(define found -1)
(define inf 1000000)

(define-record-type node (fields tiles blank h))

;; moves 0..3 move the blank up, left, right, down; the inverse of m is 3 - m
(define deltas '#(-4 -1 1 4))

(define (legal? m blank)
  (case m
    ((0) (>= blank 4))
    ((1) (> (modulo blank 4) 0))
    ((2) (< (modulo blank 4) 3))
    (else (< blank 12))))

;; (dist t p): Manhattan distance of tile t at position p from its goal position t - 1
(define dist-table
  (let ((table (make-vector 16)))
    (do ((t 1 (+ t 1))) ((= t 16) table)
      (let ((row (make-vector 16)) (g (- t 1)))
        (do ((p 0 (+ p 1))) ((= p 16))
          (vector-set! row p (+ (abs (- (quotient p 4) (quotient g 4)))
                                (abs (- (modulo p 4) (modulo g 4))))))
        (vector-set! table t row)))))

(define (dist t p) (vector-ref (vector-ref dist-table t) p))

(define (move nd m)
  (let* ((tiles (node-tiles nd))
         (blank (node-blank nd))
         (target (+ blank (vector-ref deltas m)))
         (tile (vector-ref tiles target))
         (new (vector-copy tiles)))
    (vector-set! new blank tile)
    (vector-set! new target 0)
    (make-node new target (+ (- (node-h nd) (dist tile target)) (dist tile blank)))))

(define nodes 0)

;; found, or the smallest f above the bound
(define (search nd g bound prev)
  (set! nodes (+ nodes 1))
  (let ((f (+ g (node-h nd))))
    (cond ((> f bound) f)
          ((= (node-h nd) 0) found)
          (else
           (let loop ((m 0) (min inf))
             (if (= m 4)
                 min
                 (if (and (not (= m (- 3 prev))) (legal? m (node-blank nd)))
                     (let ((t (search (move nd m) (+ g 1) bound m)))
                       (if (= t found)
                           found
                           (loop (+ m 1) (if (< t min) t min))))
                     (loop (+ m 1) min))))))))

;; the optimal solution length
(define (solve start)
  (let loop ((bound (node-h start)))
    (let ((t (search start 0 bound -1)))
      (if (= t found) bound (loop t)))))

;; a random walk of walk moves from the goal that never undoes its previous move
(define (scramble seed)
  (let loop ((k 0)
             (nd (make-node (vector 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0) 15 0))
             (x seed)
             (prev -1))
    (if (= k walk)
        nd
        (let* ((moves (filter (lambda (m) (and (not (= m (- 3 prev))) (legal? m (node-blank nd))))
                              '(0 1 2 3)))
               (x (modulo (* x 48271) modulus))
               (m (list-ref moves (modulo x (length moves)))))
          (loop (+ k 1) (move nd m) x m)))))

;; total solution length * 10^8 + nodes searched
(define (run i total)
  (if (> i instances)
      (+ (* total 100000000) nodes)
      (run (+ i 1) (+ total (solve (scramble i))))))

(display (run 1 0))
(newline)
