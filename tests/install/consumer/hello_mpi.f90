! hello_mpi.f90 - a Fortran MPI program built with an installed MPI-FM's mpifort (mpif.h, the
! oldest binding): an allreduce of the ranks.  Prints "hello_mpi.f90: rank X of N: PASS", stops
! with code 1 otherwise.
program hello_mpi
  implicit none
  include 'mpif.h'
  integer :: rank, size, total, ierr
  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, size, ierr)
  call MPI_Allreduce(rank, total, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
  if (total /= size * (size - 1) / 2) then
    write (0, '(a, i0, a, i0)') 'hello_mpi.f90: rank ', rank, ': sum ', total
    stop 1
  end if
  print '(a, i0, a, i0, a)', 'hello_mpi.f90: rank ', rank, ' of ', size, ': PASS'
  call MPI_Finalize(ierr)
end program hello_mpi
