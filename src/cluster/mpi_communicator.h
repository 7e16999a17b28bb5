#pragma once
// train/communicator.h over MPI (OpenMPI from Debian), for `mpirun -np R melodist train`. Only the
// thread that created the session calls MPI (MPI_THREAD_FUNNELED): worker threads never communicate.
//
// Faults: MPI errors return (MPI_ERRORS_RETURN) and become a melodist::Error naming the rank and the
// call; a step's collectives that take longer than `timeout_seconds` (a rank hung, or its connection
// lost without an error) end this process with a message naming its rank, and mpirun then stops the
// others. A rank that dies is reported by mpirun itself ("process rank N ... exited on signal ...").
#include <memory>

#include "train/communicator.h"

namespace melodist {

enum class Reduction {
  ordered,  // gather to rank 0, add in rank order, broadcast: bitwise the sums of one process
  native,   // MPI_Allreduce: the library's order (faster at many ranks; differs in the last bits)
};
Reduction parse_reduction(const std::string& text);  // "ordered" / "mpi"

// True when this process was started by an MPI launcher (mpirun, srun with PMI/PMIx).
bool launched_by_mpi();

// Initialises MPI (once per process) and finalises it when the last communicator is gone. Throws
// melodist::Error when MPI cannot start.
std::unique_ptr<Communicator> make_mpi_communicator(Reduction reduction, double timeout_seconds);

// After an error on one rank: ends every rank of the job (MPI_Abort) with `code`.
[[noreturn]] void abort_mpi_job(int code);

}  // namespace melodist
